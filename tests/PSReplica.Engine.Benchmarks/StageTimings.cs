using System;
using System.Diagnostics;
using System.IO;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;
using PSReplica.Engine.Delta;
using PSReplica.Engine.Execution;

namespace PSReplica.Engine.Benchmarks;

/// <summary>Times the delta path's stages on real files (<c>-- stages [dir] [MiB]</c>), to see where a file's wall
/// time goes: reading, whole-file hashing, signature building, the search alone, and the whole DeltaCopier.</summary>
internal static class StageTimings
{
    public static void Run(string directory, int mebibytes)
    {
        string work = Path.Combine(directory, "psreplica-stages-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        try
        {
            long length = (long)mebibytes << 20;
            string basis = Path.Combine(work, "basis");
            string prefix = Path.Combine(work, "prefix");
            string different = Path.Combine(work, "different");
            var random = new Random(7);
            Write(basis, length, random, null);
            var head = new byte[100];
            random.NextBytes(head);
            using (var output = File.Create(prefix))
            {
                output.Write(head);
                using FileStream input = File.OpenRead(basis);
                input.CopyTo(output, 4 << 20);
            }

            Write(different, length, random, null);
            var memoryBasis = new byte[64 << 20];
            var memoryOther = new byte[64 << 20];
            random.NextBytes(memoryBasis);
            random.NextBytes(memoryOther);
            var memoryMatcher = new DeltaMatcher(SignatureBuilder.Build(new MemoryStream(memoryBasis), memoryBasis.Length, null, default));
            var emptyFilter = new ulong[(1 << 21) / 64];
            var sparseFilter = new ulong[(1 << 21) / 64];
            for (int i = 0; i < 8192; i++)
            {
                int bit = random.Next(1 << 21);
                sparseFilter[bit >> 6] |= 1UL << (bit & 63);
            }

            for (int round = 0; round < 2; round++)
            {
                foreach ((string name, ulong[] filter) in new[] { ("empty", emptyFilter), ("1/256", sparseFilter) })
                {
                    Time($"skim scalar, {name} filter", memoryOther.Length, () => SkimAll(memoryOther, filter, vector: false));
                    Time($"skim vector, {name} filter", memoryOther.Length, () => SkimAll(memoryOther, filter, vector: true));
                }
            }

            for (int round = 0; round < 3; round++)
            {
                Time("in memory 64 MiB: search unrelated", memoryOther.Length, () => memoryMatcher.Run(new MemoryStream(memoryOther), NullSink.Instance, default));
                Time("in memory 64 MiB: search identical", memoryBasis.Length, () => memoryMatcher.Run(new MemoryStream(memoryBasis), NullSink.Instance, default));
            }

            if (Environment.GetEnvironmentVariable("STAGES_MEMORY_ONLY") == "1")
            {
                return;
            }

            for (int round = 0; round < 3; round++)
            {
                Console.WriteLine($"-- round {round + 1}");
                Time("read only", length, () => ReadAll(basis, null));
                Time("read + XXH3-128", length, () => ReadAll(basis, new XxHash128()));
                string copy = Path.Combine(work, "copy");
                Time("writer: pread 1 MiB + pwrite + XXH3", length, () => WriteCopy(basis, copy, length, 1 << 20, kernel: false, hash: true));
                Time("writer: pwrite only (1 MiB buffer)", length, () => WriteCopy(basis, copy, length, 1 << 20, kernel: false, hash: false, readBasis: false));
                Time("writer: copy_file_range 1 MiB", length, () => WriteCopy(basis, copy, length, 1 << 20, kernel: true, hash: false));
                Time("writer: copy_file_range 1 MiB + pread 256K + XXH3", length, () => WriteCopy(basis, copy, length, 1 << 20, kernel: true, hash: true));
                Time("pread 256 KiB only", length, () => ReadChunks(basis, length, 256 << 10));
                Time("pread 64 KiB only", length, () => ReadChunks(basis, length, 64 << 10));
                Signature? signature = null;
                Time("signature (file, parallel)", length, () =>
                {
                    using SafeFileHandle handle = File.OpenHandle(basis);
                    signature = SignatureBuilder.Build(handle, length, null, default);
                });
                var matcher = new DeltaMatcher(signature!);
                Time("search identical, null sink", length, () =>
                {
                    using FileStream input = new(basis, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
                    matcher.Run(input, NullSink.Instance, default);
                });
                foreach (string source in new[] { basis, prefix, different })
                {
                    string target = Path.Combine(work, "out");
                    Time("DeltaCopier " + Path.GetFileName(source) + (source == basis ? " (identical)" : string.Empty), length, () =>
                    {
                        DeltaResult result = DeltaCopier.Copy(() => FileCopier.OpenSource(source), basis, target, null, null, null, default);
                        Console.Write($"[literal {result.LiteralBytes}{(result.SearchedTwice ? ", searched twice" : string.Empty)}] ");
                    });
                    File.Delete(target);
                }
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void Write(string path, long length, Random random, byte[]? _)
    {
        var buffer = new byte[4 << 20];
        using FileStream stream = File.Create(path);
        for (long done = 0; done < length; done += buffer.Length)
        {
            random.NextBytes(buffer);
            stream.Write(buffer, 0, (int)Math.Min(buffer.Length, length - done));
        }
    }

    private static void WriteCopy(string basis, string copy, long length, int chunk, bool kernel, bool hash, bool readBasis = true)
    {
        File.Delete(copy);
        using SafeFileHandle input = File.OpenHandle(basis);
        using SafeFileHandle output = File.OpenHandle(copy, FileMode.CreateNew, FileAccess.ReadWrite);
        var buffer = new byte[chunk];
        var small = new byte[256 << 10];
        var xxh = new XxHash128();
        int fdIn = (int)input.DangerousGetHandle();
        int fdOut = (int)output.DangerousGetHandle();
        for (long done = 0; done < length;)
        {
            int n = (int)Math.Min(chunk, length - done);
            if (kernel)
            {
                long copied = PSReplica.Engine.Native.Posix.CopyFileRange(fdIn, done, fdOut, done, n);
                if (copied <= 0)
                {
                    throw new IOException("copy_file_range " + copied);
                }

                n = (int)copied;
                if (hash)
                {
                    for (int h = 0; h < n; h += small.Length)
                    {
                        int m = RandomAccess.Read(input, small.AsSpan(0, Math.Min(small.Length, n - h)), done + h);
                        xxh.Append(small.AsSpan(0, m));
                    }
                }
            }
            else
            {
                if (readBasis)
                {
                    n = RandomAccess.Read(input, buffer.AsSpan(0, n), done);
                }

                RandomAccess.Write(output, buffer.AsSpan(0, n), done);
                if (hash)
                {
                    xxh.Append(buffer.AsSpan(0, n));
                }
            }

            done += n;
        }
    }

    private static int SkimAll(byte[] data, ulong[] filter, bool vector)
    {
        const int Window = 8192;
        var sum = default(RollingChecksum);
        sum.Reset(data.AsSpan(0, Window));
        uint s1 = sum.S1;
        uint s2 = sum.S2;
        int stops = 0;
        int limit = data.Length - Window - 1;
        for (int position = 0; position < limit;)
        {
            position = vector
                ? FilterSkim.Vector(data, filter, 11, position, limit, Window, ref s1, ref s2)
                : FilterSkim.Scalar(data, filter, 11, position, limit, Window, ref s1, ref s2);
            if (position < limit)
            {
                stops++;
                uint o = (uint)(sbyte)data[position];
                s1 = s1 - o + (uint)(sbyte)data[position + Window];
                s2 = s2 - (Window * o) + s1;
                position++;
            }
        }

        return stops;
    }

    private static void ReadChunks(string path, long length, int chunk)
    {
        using SafeFileHandle input = File.OpenHandle(path);
        var buffer = new byte[chunk];
        for (long done = 0; done < length;)
        {
            done += RandomAccess.Read(input, buffer, done);
        }
    }

    private static void ReadAll(string path, XxHash128? hash)
    {
        var buffer = new byte[4 << 20];
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            hash?.Append(buffer.AsSpan(0, n));
        }
    }

    private static void Time(string what, long length, Action action)
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        action();
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Console.WriteLine($"{what,-40} {seconds,7:F3} s  cpu {cpuSeconds,6:F3} s  {length / seconds / 1e9,6:F2} GB/s");
    }

    private sealed class NullSink : IDeltaSink
    {
        public static readonly NullSink Instance = new();

        public void Literal(ReadOnlySpan<byte> data)
        {
        }

        public void Copy(int firstBlock, int blockCount)
        {
        }
    }
}

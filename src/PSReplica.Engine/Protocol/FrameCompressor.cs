using System.Buffers;
using System.IO.Compression;

namespace PSReplica.Engine.Protocol;

/// <summary>Deflate for data frames (-Compress). Deflate because it is built into .NET: the agent that is copied to
/// servers carries no extra library, and at levels 1 to 9 it keeps up with an SSH channel. Each frame is compressed
/// on its own (at most <see cref="ProtocolLimits.DataChunk"/> bytes), so a frame can be inflated alone and its inflated
/// size is bounded: a frame that would inflate beyond one chunk ends the session.</summary>
internal static class FrameCompressor
{
    /// <summary>Compresses <paramref name="source"/>; returns a pooled buffer and the compressed length, or null when
    /// compression would not save anything.</summary>
    public static (byte[] Buffer, int Length)? Compress(ReadOnlySpan<byte> source, int level)
    {
        using var output = new MemoryStream(source.Length);
        using (var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true))
        {
            deflate.Write(source);
        }

        if (output.Length >= source.Length)
        {
            return null;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)output.Length);
        output.GetBuffer().AsSpan(0, (int)output.Length).CopyTo(buffer);
        return (buffer, (int)output.Length);
    }

    /// <summary>Inflates one frame into a pooled buffer of at most one data chunk.</summary>
    /// <exception cref="SyncException">ProtocolViolation: not deflate data, or more than one chunk.</exception>
    public static (byte[] Buffer, int Length) Decompress(ReadOnlyMemory<byte> payload)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ProtocolLimits.DataChunk + 1);
        try
        {
            using var input = new MemoryStream(payload.ToArray(), writable: false);
            using var inflate = new DeflateStream(input, CompressionMode.Decompress);
            int total = 0;
            while (total <= ProtocolLimits.DataChunk)
            {
                int n = inflate.Read(buffer, total, ProtocolLimits.DataChunk + 1 - total);
                if (n == 0)
                {
                    return (buffer, total);
                }

                total += n;
            }

            throw ProtocolFault.Violation($"a compressed frame that inflates beyond {ProtocolLimits.DataChunk} bytes");
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw ProtocolFault.Violation("a compressed frame that is not valid deflate data");
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Whether a file's content is worth compressing: not for formats that are compressed already
    /// (archives, images, audio, video, office documents).</summary>
    public static bool Worthwhile(string path)
    {
        int dot = path.LastIndexOf('.');
        if (dot < 0 || dot < path.LastIndexOf('/'))
        {
            return true;
        }

        return !s_compressed.Contains(path[(dot + 1)..]);
    }

    private static readonly System.Collections.Generic.HashSet<string> s_compressed = new(StringComparer.OrdinalIgnoreCase)
    {
        "7z", "aac", "apk", "avi", "br", "bz2", "cab", "deb", "dmg", "docx", "flac", "gif", "gpg", "gz", "heic", "iso", "jar",
        "jpeg", "jpg", "lz", "lz4", "lzma", "m4a", "m4v", "mkv", "mov", "mp3", "mp4", "mpeg", "mpg", "nupkg", "odp", "ods", "odt",
        "ogg", "opus", "png", "pptx", "rar", "rpm", "squashfs", "tbz", "tgz", "txz", "webm", "webp", "whl", "xlsx", "xz", "z",
        "zip", "zst",
    };
}

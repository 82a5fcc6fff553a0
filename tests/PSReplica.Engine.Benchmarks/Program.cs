using System;
using BenchmarkDotNet.Running;

namespace PSReplica.Engine.Benchmarks;

/// <summary>Runs the engine's micro-benchmarks:
/// <c>dotnet run -c Release --project tests/PSReplica.Engine.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick look). Throughput is reported as bytes per second of the 64 MiB input.
/// <c>-- stages [directory] [MiB]</c> instead times the delta path's stages on files (default /dev/shm, 1024 MiB).</summary>
public static class Program
{
    public static void Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && args[0] == "stages")
        {
            StageTimings.Run(args.Length > 1 ? args[1] : "/dev/shm", args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1024);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

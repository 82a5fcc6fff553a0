using BenchmarkDotNet.Running;

namespace PSReplica.Engine.Benchmarks;

/// <summary>Runs the engine's micro-benchmarks:
/// <c>dotnet run -c Release --project tests/PSReplica.Engine.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick look). Throughput is reported as bytes per second of the 64 MiB input.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

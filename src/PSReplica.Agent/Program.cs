using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using PSReplica.Engine.Agent;

namespace PSReplica.Agent;

/// <summary>The remote end of PSReplica: <c>--serve</c> speaks the protocol on stdin and stdout (stdout carries frames
/// only; anything human goes to stderr or to the controller's log channel), <c>--version</c> says which protocol it speaks.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.Out.WriteLine(AgentServer.VersionText);
            return 0;
        }

        if (args is not ["--serve"])
        {
            await Console.Error.WriteLineAsync("usage: PSReplica.Agent --serve | --version").ConfigureAwait(false);
            return 2;
        }

        // Deployed into the server's cache, the agent keeps its directory from being pruned while it runs.
        using Microsoft.Win32.SafeHandles.SafeFileHandle? running = AgentDirectoryLock.Hold(AppContext.BaseDirectory);

        // Reading stdin and the heavy requests' synchronous waits each hold a pool thread; with the pool's minimum of one
        // thread per core, the continuations that move frames could otherwise wait for the pool to inject more (half a
        // second each on a 2-core server).
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), completionPorts);

        // Take the raw stdout for the protocol first, then send every other writer to stderr so nothing can corrupt it.
        // Buffered: FrameWriter flushes only when no frame is queued behind the one it wrote, so a burst of small
        // frames leaves in one write(2) (sshd then sends it as one packet) rather than one each.
        Stream output = new BufferedStream(Console.OpenStandardOutput(), 64 << 10);
        // Read in place on the reading thread rather than through a pool thread per read (DescriptorInput).
        Stream input = OperatingSystem.IsWindows() ? Console.OpenStandardInput() : AgentServer.StandardInput();
        Console.SetOut(Console.Error);
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        return await AgentServer.ServeAsync(input, output, Console.Error, stop.Token).ConfigureAwait(false);
    }
}

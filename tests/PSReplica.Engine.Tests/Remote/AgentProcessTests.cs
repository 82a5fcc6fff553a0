using System.Diagnostics;
using PSReplica.Engine.Agent;
using PSReplica.Engine.Client;

namespace PSReplica.Engine.Tests.Remote;

/// <summary>The built agent as a real child process, speaking over its stdin and stdout as it will under ssh.</summary>
public sealed class AgentProcessTests
{
    /// <summary>src/PSReplica.Agent/bin/&lt;configuration&gt;/net10.0/PSReplica.Agent.dll, for the configuration these tests were built in.</summary>
    private static string AgentPath()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        string framework = here.Name;
        string configuration = here.Parent!.Name;
        DirectoryInfo? repository = here;
        while (repository is not null && !File.Exists(Path.Join(repository.FullName, "PSReplica.sln")))
        {
            repository = repository.Parent;
        }

        Assert.NotNull(repository);
        string path = Path.Join(repository.FullName, "src", "PSReplica.Agent", "bin", configuration, framework, "PSReplica.Agent.dll");
        Assert.True(File.Exists(path), $"The agent is not built at {path}.");
        return path;
    }

    private static Process Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(AgentPath());
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    [Fact]
    public async Task Version_names_the_protocol()
    {
        using Process process = Start("--version");
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        Assert.Equal(AgentServer.VersionText, output.Trim());
    }

    [Fact]
    public async Task A_session_over_stdin_and_stdout_pushes_a_tree_and_exits_cleanly()
    {
        using var tree = new TestTree();
        RandomTree.Create(tree.Source, 11, files: 25);
        Directory.CreateDirectory(tree.Destination);
        using Process process = Start("--serve");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Stream toAgent = process.StandardInput.BaseStream;
        Stream fromAgent = process.StandardOutput.BaseStream;
        await using (AgentClient client = await AgentClient.ConnectAsync(fromAgent, toAgent, RemoteSide.Destination, tree.Destination,
            new AgentClientOptions(), CancellationToken.None))
        {
            Assert.NotNull(client.RootEntry);
            var local = RandomTree.ListLocally(tree.Source);
            var keys = new System.Collections.Generic.List<string>(local.Keys);
            keys.Sort(StringComparer.Ordinal);
            foreach (string directory in keys)
            {
                foreach (Scanning.FileEntry entry in local[directory])
                {
                    string relative = PeerNames.Join(directory, entry.Name);
                    var attributes = new AttributeSet(AttributeFields.Mode | AttributeFields.Time, entry.Permissions, 0, 0, entry.MtimeSeconds, entry.MtimeNanoseconds);
                    switch (entry.Kind)
                    {
                        case Scanning.EntryKind.Directory:
                            await client.CreateDirectoryAsync(relative, new AttributeSet(AttributeFields.Mode, 0x1C0, 0, 0, 0, 0), CancellationToken.None);
                            break;
                        case Scanning.EntryKind.SymbolicLink:
                            await client.CreateSymbolicLinkAsync(relative, entry.LinkTarget!, attributes with { Fields = AttributeFields.Time }, CancellationToken.None);
                            break;
                        default:
                            await using (var source = File.OpenRead(entry.FullPath))
                            {
                                await client.WriteFileAsync(relative, source, entry.Length, attributes, CancellationToken.None);
                            }

                            break;
                    }
                }
            }

            keys.Reverse();
            foreach (string directory in keys)
            {
                Scanning.FileEntry entry = Scanning.DirectoryLister.Stat(Path.Join(tree.Source, directory), "x", follow: false, out _)!;
                await client.SetAttributesAsync(directory, new AttributeSet(AttributeFields.Mode | AttributeFields.Time, entry.Permissions, 0, 0,
                    entry.MtimeSeconds, entry.MtimeNanoseconds), CancellationToken.None);
            }

            RemoteListing listing = await client.ListAsync(string.Empty, recursive: false, CancellationToken.None);
            Assert.Equal(local[string.Empty].Count, listing.List(string.Empty).Count);
        }

        toAgent.Dispose();
        Assert.True(process.WaitForExit(30_000), "The agent did not exit after the session.");
        Assert.True(process.ExitCode == 0, "The agent failed: " + await stderr);
        RandomTree.AssertSame(tree.Source, tree.Destination);
    }

    [Fact]
    public async Task Garbage_on_stdin_ends_the_agent_with_an_error_frame_and_a_non_zero_exit()
    {
        using Process process = Start("--serve");
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Stream toAgent = process.StandardInput.BaseStream;
        await toAgent.WriteAsync("SSH-2.0-not-the-protocol\r\n"u8.ToArray());
        await toAgent.FlushAsync();
        Frame? frame = await new FrameReader(process.StandardOutput.BaseStream).ReadAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.NotNull(frame);
        using (frame)
        {
            Assert.Equal(FrameKind.Error, frame.Kind);
            Assert.Equal(0u, frame.Id);
        }

        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("PSReplica agent:", await stderr, StringComparison.Ordinal);
    }
}

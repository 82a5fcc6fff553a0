namespace PSReplica.Engine.Tests.Remote;

/// <summary>A test tree whose root also holds an "outside" directory with a secret file: what a fake controller,
/// playing a hostile client against a real agent, reaches for. Everything outside the destination is recorded when
/// the sandbox is made, so that a test can prove the agent changed none of it.</summary>
internal sealed class AgentSandbox : IDisposable
{
    private List<string> _before;

    /// <param name="destinationFiles">Files to put in the destination, each holding its own name.</param>
    public AgentSandbox(params string[] destinationFiles)
    {
        foreach (string name in destinationFiles)
        {
            Tree.Dst(name, name);
        }

        Outside = Path.Join(Tree.Root, "outside");
        Secret = TestTree.Write(Outside, "secret", "secret");
        _before = OutsideDestination();
    }

    public TestTree Tree { get; } = new();

    public string Outside { get; }

    public string Secret { get; }

    /// <summary>Writes a file outside the destination (a basis tree, say) and counts it in what must stay unchanged.</summary>
    public string WriteOutside(string directory, string relative, string content)
    {
        string path = TestTree.Write(Path.Join(Tree.Root, directory), relative, content);
        _before = OutsideDestination();
        return path;
    }

    /// <summary>Runs <paramref name="script"/> as a fake controller against a real agent serving <paramref name="root"/>
    /// (the destination unless told) and expects the agent to end the session with <paramref name="errorId"/>, with
    /// nothing changed outside the destination.</summary>
    public async Task ExpectAbortAsync(string errorId, RemoteSide role, Func<FakePeer, Task> script, string? root = null)
    {
        await using Loopback loop = Loopback.WithAgent();
        FakePeer peer = await loop.ConnectPeerAsync(role, root ?? Tree.Destination);
        await script(peer);
        await loop.AssertAgentAbortedAsync(peer, errorId);
        AssertOutsideUntouched();
    }

    public void AssertOutsideUntouched() => Assert.Equal(_before, OutsideDestination());

    public void Dispose() => Tree.Dispose();

    /// <summary>Everything in the sandbox outside the destination, with the secret's content and mode.</summary>
    private List<string> OutsideDestination()
    {
        var items = new List<string>();
        foreach (string path in TestTree.Listing(Tree.Root))
        {
            if (!path.StartsWith("dst", StringComparison.Ordinal))
            {
                items.Add(path);
            }
        }

        items.Add(File.ReadAllText(Secret));
        items.Add(Convert.ToString(TestTree.Stat(Secret).Permissions, 8));
        return items;
    }
}

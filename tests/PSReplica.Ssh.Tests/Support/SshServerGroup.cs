namespace PSReplica.Ssh.Tests;

/// <summary>One sshd for every test class that needs a server.</summary>
[CollectionDefinition(Name)]
public sealed class SshServerGroup : ICollectionFixture<TestSshServer>
{
    public const string Name = "sshd";
}

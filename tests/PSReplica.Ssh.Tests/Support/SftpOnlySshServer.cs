namespace PSReplica.Ssh.Tests;

/// <summary>A second sshd that allows SFTP only (<see cref="TestSshServer.SftpOnly"/>), for the test classes that need a
/// server where no agent can start.</summary>
public sealed class SftpOnlySshServer : IDisposable
{
    public TestSshServer Server { get; } = TestSshServer.SftpOnly();

    public void Dispose() => Server.Dispose();
}

using System.Globalization;

namespace PSReplica.Ssh.Transport;

/// <summary>The server as the agent's deployment sees it: commands run there (the probe, the sum check, the agent) and
/// files are uploaded there. Over SSH.NET the files go by SFTP in the same session; through -SshCommand (the system's
/// ssh client, which has no SFTP session to offer) each file goes on the standard input of a <c>cat</c>, so that a
/// server with nothing but sshd gets its agent either way.</summary>
internal abstract class AgentHost
{
    /// <summary>Permission bits of an uploaded native agent (rwxr-xr-x).</summary>
    protected const int ExecutableMode = 0x1ED;

    /// <summary>The suffix of a file while it is being uploaded: a half-written file never carries the final name.</summary>
    protected const string UploadingSuffix = ".uploading";

    /// <summary>How files reach the server, for -Verbose ("over SFTP").</summary>
    public abstract string UploadsBy { get; }

    /// <summary>Starts <paramref name="command"/> (a remote shell command line) on the server.</summary>
    public abstract ICommandChannel OpenCommand(string command);

    /// <summary>Writes each file into <paramref name="directory"/> (made with its parents when missing) under a temp name,
    /// then renames it into place; <paramref name="executable"/> makes them rwxr-xr-x. Returns the bytes uploaded.</summary>
    /// <exception cref="IOException">The server refused a write (a read-only or full home).</exception>
    public abstract long Upload(string directory, IReadOnlyList<string> localFiles, IReadOnlyList<(string Name, byte[] Content)> extra,
        bool executable, CancellationToken cancellation);

    /// <summary>SSH.NET's session: commands in its exec channels, files over SFTP.</summary>
    public static AgentHost Of(SshSession session) => new SessionHost(session);

    /// <summary>The system's ssh client: one client process per command, files through <c>cat</c>.</summary>
    public static AgentHost Of(ExternalSshOptions options) => new ExternalHost(options);

    private sealed class SessionHost(SshSession session) : AgentHost
    {
        public override string UploadsBy => "over SFTP";

        public override ICommandChannel OpenCommand(string command) => session.OpenCommand(command);

        public override long Upload(string directory, IReadOnlyList<string> localFiles, IReadOnlyList<(string Name, byte[] Content)> extra,
            bool executable, CancellationToken cancellation)
        {
            long uploaded = 0;
            using SftpSession sftp = session.OpenSftp(cancellation);
            MakeDirectories(sftp, directory);
            foreach (string file in localFiles)
            {
                cancellation.ThrowIfCancellationRequested();
                byte[] content = File.ReadAllBytes(file);
                string path = directory + "/" + Path.GetFileName(file);
                Write(sftp, content, path, executable);
                uploaded += content.Length;
            }

            foreach ((string name, byte[] content) in extra)
            {
                Write(sftp, content, directory + "/" + name, executable: false);
            }

            return uploaded;
        }

        private static void MakeDirectories(SftpSession sftp, string directory)
        {
            string path = string.Empty;
            foreach (string part in directory.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                path += "/" + part;
                if (sftp.Stat(path) is null)
                {
                    sftp.Mkdir(path);
                }
            }
        }

        private static void Write(SftpSession sftp, byte[] content, string path, bool executable)
        {
            string temp = path + UploadingSuffix;
            if (sftp.Stat(temp) is not null)
            {
                sftp.Delete(temp);
            }

            using (Stream stream = sftp.CreateExclusive(temp))
            {
                stream.Write(content);
            }

            if (executable)
            {
                sftp.SetAttributes(temp, new SftpAttributeChanges { Mode = ExecutableMode });
            }

            if (sftp.Stat(path) is not null)
            {
                sftp.Delete(path);
            }

            sftp.Rename(temp, path);
        }
    }

    private sealed class ExternalHost(ExternalSshOptions options) : AgentHost
    {
        public override string UploadsBy => "through the ssh client";

        /// <summary>Run by the server's sh with the directory, the file's name and its mode as $1 $2 $3: the content comes on
        /// standard input. rm before cat, so a leftover temp file (or a link in its place) is replaced, not written through.</summary>
        private const string WriteScript = "mkdir -p -- \"$1\" && cd -- \"$1\" && rm -f -- \"$2" + UploadingSuffix + "\" && cat > \"$2" + UploadingSuffix
            + "\" && chmod \"$3\" \"$2" + UploadingSuffix + "\" && mv -f -- \"$2" + UploadingSuffix + "\" \"$2\"";

        public override ICommandChannel OpenCommand(string command) => ExternalSshCommand.Start(options, command);

        public override long Upload(string directory, IReadOnlyList<string> localFiles, IReadOnlyList<(string Name, byte[] Content)> extra,
            bool executable, CancellationToken cancellation)
        {
            long uploaded = 0;
            foreach (string file in localFiles)
            {
                byte[] content = File.ReadAllBytes(file);
                Write(directory, Path.GetFileName(file), content, executable ? ExecutableMode : 0x1A4, cancellation);
                uploaded += content.Length;
            }

            foreach ((string name, byte[] content) in extra)
            {
                Write(directory, name, content, 0x1A4, cancellation);
            }

            return uploaded;
        }

        private void Write(string directory, string name, byte[] content, int mode, CancellationToken cancellation)
        {
            cancellation.ThrowIfCancellationRequested();
            string command = RemoteShell.Join(["sh", "-c", WriteScript, "sh", directory, name, Convert.ToString(mode, 8)]);
            using ExternalSshCommand channel = ExternalSshCommand.Start(options, command);
            channel.Stream.Write(content);
            channel.Stream.Flush();
            channel.CloseInput();
            int? status = channel.WaitForExitAsync(cancellation).GetAwaiter().GetResult();
            if (status is not 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"writing '{directory}/{name}' on the server failed (exit status {status?.ToString(CultureInfo.InvariantCulture) ?? "none"}): {channel.StandardError.Trim()}"));
            }
        }
    }
}

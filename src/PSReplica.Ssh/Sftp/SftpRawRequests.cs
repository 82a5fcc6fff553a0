using System.Reflection;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace PSReplica.Ssh;

/// <summary>
/// SFTP requests sent as given, without SSH.NET's path canonicalisation. SftpClient resolves every path with
/// SSH_FXP_REALPATH first, which follows symbolic links: deleting a link would delete its target, and stat would
/// describe the target. A replicator must see and remove links themselves, so these requests go to SSH.NET's
/// internal session directly (pinned SSH.NET version; the SFTP tests fail if the members move).
/// </summary>
internal sealed class SftpRawRequests
{
    private readonly object _session;
    private readonly MethodInfo _lstat;
    private readonly MethodInfo _remove;
    private readonly MethodInfo _rmdir;
    private readonly MethodInfo _mkdir;
    private readonly MethodInfo _posixRename;
    private readonly MethodInfo _setStat;
    private readonly MethodInfo _rename;
    private readonly MethodInfo _symLink;
    private readonly MethodInfo _readLink;
    private readonly MethodInfo _realPath;
    private readonly MethodInfo? _hardLink;
    private readonly System.Collections.Generic.IDictionary<string, string>? _extensions;

    public SftpRawRequests(SftpClient client)
    {
        _session = typeof(SftpClient).GetField("_sftpSession", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(client)
            ?? throw new NotSupportedException("This SSH.NET version hides its SFTP session; PSReplica's SFTP support needs the version it was built with.");
        Type type = _session.GetType();
        _lstat = Method(type, "RequestLStat", typeof(string));
        _remove = Method(type, "RequestRemove", typeof(string));
        _rmdir = Method(type, "RequestRmDir", typeof(string));
        _mkdir = Method(type, "RequestMkDir", typeof(string));
        _posixRename = Method(type, "RequestPosixRename", typeof(string), typeof(string));
        _setStat = Method(type, "RequestSetStat", typeof(string), typeof(SftpFileAttributes));
        _rename = Method(type, "RequestRename", typeof(string), typeof(string));
        _symLink = Method(type, "RequestSymLink", typeof(string), typeof(string));
        _readLink = Method(type, "RequestReadLink", typeof(string), typeof(bool));
        _realPath = Method(type, "RequestRealPath", typeof(string), typeof(bool));

        // Optional: without them hard links are refused up front, and nothing else changes.
        _hardLink = type.GetMethod("HardLink", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, [typeof(string), typeof(string)]);
        _extensions = type.GetField("_supportedExtensions", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(_session)
            as System.Collections.Generic.IDictionary<string, string>;
    }

    /// <summary>Whether the server listed <paramref name="extension"/> in its SSH_FXP_VERSION (SSH.NET keeps the list
    /// from the handshake, and checks it again before sending an extended request).</summary>
    public bool Offers(string extension) => _extensions?.ContainsKey(extension) == true;

    /// <summary>Whether hardlink@openssh.com can be sent: SSH.NET has the request and the server offers it.</summary>
    public bool CanHardLink => _hardLink is not null && Offers("hardlink@openssh.com");

    /// <summary>hardlink@openssh.com: link(2) of <paramref name="existing"/> as the new name <paramref name="link"/>
    /// (which must not exist; a final link in <paramref name="existing"/> is not followed).</summary>
    public void HardLink(string existing, string link) =>
        Invoke(_hardLink ?? throw new NotSupportedException("This SSH.NET version cannot send hardlink@openssh.com."), existing, link);

    public SftpFileAttributes LStat(string path) => (SftpFileAttributes)Invoke(_lstat, path)!;

    public void Remove(string path) => Invoke(_remove, path);

    public void RemoveDirectory(string path) => Invoke(_rmdir, path);

    public void MakeDirectory(string path) => Invoke(_mkdir, path);

    public void PosixRename(string from, string to) => Invoke(_posixRename, from, to);

    public void SetStat(string path, SftpFileAttributes attributes) => Invoke(_setStat, path, attributes);

    /// <summary>SSH_FXP_RENAME: OpenSSH refuses it when the target exists.</summary>
    public void Rename(string from, string to) => Invoke(_rename, from, to);

    /// <summary>SSH_FXP_SYMLINK with its two paths in the order OpenSSH's server reads them (target first, then the
    /// new link: the reverse of the draft, kept by every client for compatibility).</summary>
    public void SymLink(string target, string link) => Invoke(_symLink, target, link);

    /// <summary>SSH_FXP_READLINK: the link's target as stored.</summary>
    public string ReadLink(string path) => First(Invoke(_readLink, path, false), path);

    /// <summary>SSH_FXP_REALPATH: the canonical absolute path (links followed).</summary>
    public string RealPath(string path) => First(Invoke(_realPath, path, false), path);

    private static string First(object? names, string path) =>
        names is System.Collections.Generic.KeyValuePair<string, SftpFileAttributes>[] { Length: > 0 } pairs ? pairs[0].Key
        : throw new SftpPathNotFoundException($"No name for '{path}'.");

    private static MethodInfo Method(Type type, string name, params Type[] parameters) =>
        type.GetMethod(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, parameters)
        ?? throw new NotSupportedException($"This SSH.NET version lacks {name}; PSReplica's SFTP support needs the version it was built with.");

    private object? Invoke(MethodInfo method, params object[] arguments)
    {
        try
        {
            return method.Invoke(_session, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}

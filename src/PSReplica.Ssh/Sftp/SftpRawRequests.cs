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
    private readonly HardLinkRequests? _hardLink;
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
        _hardLink = HardLinkRequests.Find(type);
        _extensions = type.GetField("_supportedExtensions", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(_session)
            as System.Collections.Generic.IDictionary<string, string>;
    }

    /// <summary>Whether the server listed <paramref name="extension"/> in its SSH_FXP_VERSION (SSH.NET keeps the list
    /// from the handshake, and checks it again before sending an extended request).</summary>
    public bool Offers(string extension) => _extensions?.ContainsKey(extension) == true;

    /// <summary>Whether hardlink@openssh.com can be sent: SSH.NET has the request and the server offers it.</summary>
    public bool CanHardLink => _hardLink is not null && Offers("hardlink@openssh.com");

    /// <summary>hardlink@openssh.com: link(2) of <paramref name="existing"/> as the new name <paramref name="link"/>
    /// (which must not exist; a final link in <paramref name="existing"/> is not followed). Both paths go as their bytes
    /// (<see cref="PSReplica.Engine.Native.NameEncoding"/>), as every other request's do.</summary>
    public void HardLink(string existing, string link) =>
        (_hardLink ?? throw new NotSupportedException("This SSH.NET version cannot send hardlink@openssh.com.")).Send(_session, existing, link);

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

    /// <summary>SSH.NET's hardlink@openssh.com request encodes its paths as UTF-8 whatever the session's name encoding, so a
    /// byte of a name that is not UTF-8 became U+FFFD and the link failed on every run. This builds the same request, sets
    /// its two paths as the names' bytes, and sends and awaits it as SSH.NET's own HardLink does.</summary>
    private sealed class HardLinkRequests
    {
        private readonly ConstructorInfo _create;
        private readonly FieldInfo _oldPath;
        private readonly FieldInfo _newPath;
        private readonly Type _statusType;
        private readonly PropertyInfo _statusCode;
        private readonly PropertyInfo _errorMessage;
        private readonly PropertyInfo _protocolVersion;
        private readonly PropertyInfo _nextRequestId;
        private readonly PropertyInfo _operationTimeout;
        private readonly MethodInfo _sendRequest;
        private readonly MethodInfo _waitOnHandle;

        private HardLinkRequests(ConstructorInfo create, FieldInfo oldPath, FieldInfo newPath, Type statusType, PropertyInfo statusCode,
            PropertyInfo errorMessage, PropertyInfo protocolVersion, PropertyInfo nextRequestId, PropertyInfo operationTimeout,
            MethodInfo sendRequest, MethodInfo waitOnHandle)
        {
            (_create, _oldPath, _newPath, _statusType, _statusCode, _errorMessage) = (create, oldPath, newPath, statusType, statusCode, errorMessage);
            (_protocolVersion, _nextRequestId, _operationTimeout, _sendRequest, _waitOnHandle) = (protocolVersion, nextRequestId, operationTimeout, sendRequest, waitOnHandle);
        }

        /// <summary>The members the request needs, or null when this SSH.NET version lacks any of them (hard links are then
        /// refused up front).</summary>
        public static HardLinkRequests? Find(Type session)
        {
            const BindingFlags Members = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
            Assembly ssh = session.Assembly;
            Type? request = ssh.GetType("Renci.SshNet.Sftp.Requests.HardLinkRequest");
            Type? status = ssh.GetType("Renci.SshNet.Sftp.Responses.SftpStatusResponse");
            if (request is null || status is null)
            {
                return null;
            }

            Type callback = typeof(Action<>).MakeGenericType(status);
            ConstructorInfo? create = request.GetConstructor(Members, [typeof(uint), typeof(uint), typeof(string), typeof(string), callback]);
            FieldInfo? oldPath = request.GetField("_oldPath", Members);
            FieldInfo? newPath = request.GetField("_newPath", Members);
            PropertyInfo? statusCode = status.GetProperty("StatusCode", Members);
            PropertyInfo? errorMessage = status.GetProperty("ErrorMessage", Members);
            PropertyInfo? protocolVersion = session.GetProperty("ProtocolVersion", Members);
            PropertyInfo? nextRequestId = session.GetProperty("NextRequestId", Members);
            PropertyInfo? operationTimeout = session.GetProperty("OperationTimeout", Members);
            MethodInfo? sendRequest = ssh.GetType("Renci.SshNet.Sftp.Requests.SftpRequest") is { } any ? session.GetMethod("SendRequest", Members, [any]) : null;
            MethodInfo? waitOnHandle = session.GetMethod("WaitOnHandle", Members, [typeof(WaitHandle), typeof(int)]);
            return create is null || oldPath?.FieldType != typeof(byte[]) || newPath?.FieldType != typeof(byte[]) || statusCode is null || errorMessage is null
                || protocolVersion is null || nextRequestId is null || operationTimeout is null || sendRequest is null || waitOnHandle is null
                ? null
                : new HardLinkRequests(create, oldPath, newPath, status, statusCode, errorMessage, protocolVersion, nextRequestId, operationTimeout, sendRequest, waitOnHandle);
        }

        public void Send(object session, string existing, string link)
        {
            using var answered = new ManualResetEvent(false);
            var status = new Status(this, answered);
            Delegate callback = Delegate.CreateDelegate(typeof(Action<>).MakeGenericType(_statusType), status, typeof(Status).GetMethod(nameof(Status.Receive))!);
            object request;
            try
            {
                request = _create.Invoke([_protocolVersion.GetValue(session)!, _nextRequestId.GetValue(session)!, existing, link, callback]);
                _oldPath.SetValue(request, PSReplica.Engine.Native.NameEncoding.Instance.GetBytes(existing));
                _newPath.SetValue(request, PSReplica.Engine.Native.NameEncoding.Instance.GetBytes(link));
                _sendRequest.Invoke(session, [request]);
                _waitOnHandle.Invoke(session, [answered, _operationTimeout.GetValue(session)!]);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }

            status.ThrowIfFailed(existing, link);
        }

        /// <summary>The answer, as SSH.NET's own requests turn a status into an exception.</summary>
        private sealed class Status(HardLinkRequests members, ManualResetEvent answered)
        {
            private int _code = -1;
            private string? _message;

            public void Receive(object response)
            {
                _code = Convert.ToInt32(members._statusCode.GetValue(response), System.Globalization.CultureInfo.InvariantCulture);
                _message = members._errorMessage.GetValue(response) as string;
                _ = answered.Set();
            }

            public void ThrowIfFailed(string existing, string link)
            {
                // SSH_FX_OK 0, NO_SUCH_FILE 2, PERMISSION_DENIED 3 (SFTP version 3's codes).
                switch (_code)
                {
                    case 0:
                        return;
                    case 2:
                        throw new SftpPathNotFoundException(_message ?? $"No such file: '{existing}'.");
                    case 3:
                        throw new SftpPermissionDeniedException(_message ?? $"Permission denied linking '{existing}' as '{link}'.");
                    default:
                        throw new SshException(_message ?? $"Cannot link '{existing}' as '{link}' (status {_code}).");
                }
            }
        }
    }
}

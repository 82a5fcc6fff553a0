namespace PSReplica.Ssh;

/// <summary>Server paths of a replicated tree: the root joined with a '/'-separated relative path.</summary>
internal static class SftpPaths
{
    public static string Join(string root, string relative) =>
        relative.Length == 0 || relative == "." ? root : root.EndsWith('/') ? root + relative : root + "/" + relative;

    /// <summary>The directory part and the last name of a server path.</summary>
    public static (string Directory, string Name) Split(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? (".", path) : (slash == 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }
}

namespace PSReplica.Ssh;

/// <summary>
/// Turns an algorithm list of ssh_config(5) (<c>KexAlgorithms</c>, <c>Ciphers</c>) into the names a connection
/// offers, in order. The default set is PSReplica's preferred names followed by every other name SSH.NET supports.
/// A list replaces that set; <c>+list</c> appends to it, <c>-list</c> removes from it (<c>*</c> and <c>?</c> allowed),
/// <c>^list</c> puts its names first. Names SSH.NET does not support are passed over, as ssh passes over what a
/// server lacks.
/// </summary>
internal static class AlgorithmList
{
    /// <summary>The names to offer, most preferred first.</summary>
    /// <param name="supported">What SSH.NET implements, in its own order.</param>
    /// <param name="preferred">PSReplica's measured preference (names SSH.NET lacks are skipped).</param>
    /// <param name="list">The ssh config's value, or null for the default set.</param>
    /// <param name="keyword">The config keyword, for the error message.</param>
    /// <exception cref="SyncException">SshConfigInvalid when the list leaves nothing SSH.NET supports.</exception>
    public static List<string> Resolve(IEnumerable<string> supported, IReadOnlyList<string> preferred, string? list, string keyword)
    {
        var available = new List<string>(supported);
        var defaults = new List<string>(available.Count);
        foreach (string name in preferred)
        {
            if (available.Contains(name) && !defaults.Contains(name))
            {
                defaults.Add(name);
            }
        }

        foreach (string name in available)
        {
            if (!defaults.Contains(name))
            {
                defaults.Add(name);
            }
        }

        if (list is null)
        {
            return defaults;
        }

        char mode = list.Length > 0 && list[0] is '+' or '-' or '^' ? list[0] : '=';
        string[] names = (mode == '=' ? list : list[1..]).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new List<string>(defaults.Count);
        switch (mode)
        {
            case '+':
                result.AddRange(defaults);
                AddSupported(result, names, available);
                break;
            case '-':
                foreach (string name in defaults)
                {
                    if (!Array.Exists(names, pattern => HostPattern.Match(name, pattern)))
                    {
                        result.Add(name);
                    }
                }

                break;
            case '^':
                AddSupported(result, names, available);
                AddSupported(result, defaults, available);
                break;
            default:
                AddSupported(result, names, available);
                break;
        }

        if (result.Count == 0)
        {
            throw new SyncException(ErrorIds.SshConfigInvalid, SyncErrorKind.InvalidArgument,
                $"The ssh config's {keyword} '{list}' leaves no algorithm that PSReplica's SSH client supports ({string.Join(", ", available)}); "
                + "use -SshCommand ssh to connect through the system's ssh client.", list);
        }

        return result;
    }

    private static void AddSupported(List<string> result, IEnumerable<string> names, List<string> available)
    {
        foreach (string name in names)
        {
            if (available.Contains(name) && !result.Contains(name))
            {
                result.Add(name);
            }
        }
    }
}

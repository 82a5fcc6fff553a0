using System.Globalization;
using System.IO.Hashing;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Execution;

/// <summary>Where -Partial keeps an interrupted transfer. Unlike rsync's plain --partial, which leaves the torn file
/// under the final name, a partial file never takes the target's name: it lives beside the target as
/// <c>.NAME.psreplica-partial</c>, or under -PartialDirectory (rsync --partial-dir): a relative one inside the
/// target's own directory, an absolute one for all files. The name is derived from the target alone, so a run that
/// was killed leaves it where the next run looks for it.</summary>
internal sealed class PartialFiles
{
    internal const string Suffix = ".psreplica-partial";
    private const int MaxNameBytes = 255;

    private readonly string? _relativeDirectory;
    private readonly string? _absoluteDirectory;

    public PartialFiles(SyncOptions options)
    {
        string? directory = options.PartialDirectory;
        if (string.IsNullOrEmpty(directory))
        {
            return;
        }

        if (Path.IsPathRooted(directory))
        {
            _absoluteDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        }
        else
        {
            _relativeDirectory = directory;
        }
    }

    /// <summary>-PartialDirectory as one directory name, made inside each target's directory; else null.</summary>
    public string? RelativeDirectory => _relativeDirectory;

    /// <summary>-PartialDirectory as one directory for all partial files (a full path); else null.</summary>
    public string? AbsoluteDirectory => _absoluteDirectory;

    /// <summary>".NAME.psreplica-partial"; a name too long for that keeps its head and gets a hash of the whole name,
    /// so two long names never share a partial file.</summary>
    internal static string HiddenName(string name)
    {
        string full = "." + name + Suffix;
        if (NameCodec.GetByteCount(full) <= MaxNameBytes)
        {
            return full;
        }

        string tag = "~" + XxHash64.HashToUInt64(NameCodec.GetBytes(name)).ToString("x16", CultureInfo.InvariantCulture);
        int budget = MaxNameBytes - 1 - tag.Length - Suffix.Length;
        return "." + name[..NameCodec.PrefixWithin(name, budget)] + tag + Suffix;
    }

    /// <summary>The filter rule that keeps partial files out of the transfer and safe from deletion: an exclude with the
    /// perishable modifier, as rsync adds for its --partial-dir (a directory deleted for other reasons may take them
    /// along). An absolute partial directory inside the destination is excluded at its path.</summary>
    public static string? FilterRule(SyncOptions options, string destinationRoot)
    {
        string? directory = options.PartialDirectory;
        if (string.IsNullOrEmpty(directory))
        {
            return options.KeepsPartial ? "-p .*" + Suffix : null;
        }

        if (!Path.IsPathRooted(directory))
        {
            return "-p " + directory + "/";
        }

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(destinationRoot));
        return full.StartsWith(root + "/", StringComparison.Ordinal) ? "-p /" + full[(root.Length + 1)..] + "/" : null;
    }

    /// <summary>Checks the safe-update options: -Inplace excludes -DelayUpdates and -PartialDirectory (as in rsync: it
    /// implies -Partial, since it never deletes what it wrote); a relative -PartialDirectory must be one plain name (it is
    /// made in every destination directory that needs it); an absolute one must not be the destination itself.</summary>
    public static void Validate(SyncOptions options, string destinationRoot)
    {
        if (options.Inplace && (options.DelayUpdates || !string.IsNullOrEmpty(options.PartialDirectory)))
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument,
                $"-Inplace cannot be combined with {(options.DelayUpdates ? "-DelayUpdates" : "-PartialDirectory")} (rsync refuses that too): "
                + "it writes the destination file itself, so there is no separate file to keep or to move into place.", "Inplace");
        }

        if (options.BandwidthLimit < 0)
        {
            throw new SyncException(ErrorIds.InvalidParameterCombination, SyncErrorKind.InvalidArgument, "BandwidthLimit must be zero or more.", "BandwidthLimit");
        }

        string? directory = options.PartialDirectory;
        if (directory is null)
        {
            return;
        }

        if (directory.Length == 0)
        {
            throw Invalid("-PartialDirectory cannot be empty.", directory);
        }

        if (Path.IsPathRooted(directory))
        {
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
            if (full == Path.TrimEndingDirectorySeparator(Path.GetFullPath(destinationRoot)))
            {
                throw Invalid($"-PartialDirectory '{directory}' is the destination itself.", directory);
            }

            return;
        }

        if (directory.Contains('/', StringComparison.Ordinal) || directory is "." or ".." || directory.Contains('\0', StringComparison.Ordinal)
            || directory.IndexOfAny(['*', '?', '[', '\\']) >= 0)
        {
            throw Invalid($"A relative -PartialDirectory must be a single directory name without wildcards (it is made inside each destination directory), not '{directory}'.", directory);
        }
    }

    /// <summary>Validates the options and adds the filter rule that protects partial files (see <see cref="FilterRule"/>).</summary>
    public static SyncOptions Prepare(SyncOptions options)
    {
        Validate(options, options.Destination);
        string? rule = FilterRule(options, options.Destination);
        return rule is null ? options : options with { Filter = new SyncFilterBuilder().Add(options.Filter).AddRule(rule).Build() };
    }

    private static SyncException Invalid(string message, string directory) =>
        new(ErrorIds.InvalidPartialDirectory, SyncErrorKind.InvalidArgument, message, directory);
}

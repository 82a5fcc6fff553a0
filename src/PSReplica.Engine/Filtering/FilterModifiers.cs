namespace PSReplica;

/// <summary>The modifier letters of a filter rule (rsync's FILTER RULE MODIFIERS and the merge-file modifiers).</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
[Flags]
public enum FilterModifiers
{
    None = 0,

    /// <summary><c>/</c>: match against the item's absolute path.</summary>
    AbsolutePath = 1 << 0,

    /// <summary><c>!</c>: the rule takes effect when the pattern does not match.</summary>
    Negate = 1 << 1,

    /// <summary><c>C</c>: on <c>-</c>/<c>+</c>, the CVS ignore list; on a merge rule, a .cvsignore-style file.</summary>
    Cvs = 1 << 2,

    /// <summary><c>s</c>: the rule applies on the sending side (what is transferred).</summary>
    SenderSide = 1 << 3,

    /// <summary><c>r</c>: the rule applies on the receiving side (what is protected from deletion).</summary>
    ReceiverSide = 1 << 4,

    /// <summary><c>p</c>: perishable; ignored inside a directory that is being deleted.</summary>
    Perishable = 1 << 5,

    /// <summary><c>x</c>: the rule filters extended-attribute names, never file names.</summary>
    Xattr = 1 << 6,

    /// <summary><c>e</c> (merge rules): the merge file itself is excluded.</summary>
    ExcludeSelf = 1 << 7,

    /// <summary><c>n</c> (dir-merge): the file's rules are not inherited by subdirectories.</summary>
    NoInherit = 1 << 8,

    /// <summary><c>w</c> (merge rules): the file is split into words on whitespace instead of lines.</summary>
    WordSplit = 1 << 9,

    /// <summary><c>+</c> (merge rules): every line of the file is an include pattern.</summary>
    IncludeOnly = 1 << 10,

    /// <summary><c>-</c> (merge rules): every line of the file is an exclude pattern.</summary>
    ExcludeOnly = 1 << 11,
}

namespace PSReplica;

/// <summary>The kind of a filter rule, as rsync names them (FILTER RULES in rsync's manual).</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum FilterRuleType
{
    /// <summary><c>+</c> / <c>include</c>: show on the sender and risk on the receiver.</summary>
    Include,

    /// <summary><c>-</c> / <c>exclude</c>: hide on the sender and protect on the receiver.</summary>
    Exclude,

    /// <summary><c>H</c> / <c>hide</c>: a sender-only exclude.</summary>
    Hide,

    /// <summary><c>S</c> / <c>show</c>: a sender-only include.</summary>
    Show,

    /// <summary><c>P</c> / <c>protect</c>: a receiver-only exclude; keeps a destination item from deletion.</summary>
    Protect,

    /// <summary><c>R</c> / <c>risk</c>: a receiver-only include; lifts protection.</summary>
    Risk,

    /// <summary><c>!</c> / <c>clear</c>: clears the rules before it (in a per-directory file, the inherited ones).</summary>
    Clear,

    /// <summary><c>.</c> / <c>merge</c>: rules read once from a file.</summary>
    Merge,

    /// <summary><c>:</c> / <c>dir-merge</c>: rules read from a file of that name in each directory scanned.</summary>
    DirMerge,
}

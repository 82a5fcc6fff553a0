using System;
using System.Globalization;
using System.Management.Automation;

namespace PSReplica.Commands;

/// <summary>Lets -MaxAge and -MinAge (strings, read by AgeParser so that bad text is InvalidAge) take a TimeSpan or a
/// DateTime too: each becomes text that keeps all it says (a DateTime its kind and ticks, which PowerShell's own
/// conversion to a string drops). Anything else passes unchanged, so an unquoted <c>7d</c> or <c>90s</c> binds as the
/// text typed, not as the number PowerShell's numeric suffixes would make of it.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AgeArgumentAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) switch
        {
            TimeSpan age => age.ToString("c", CultureInfo.InvariantCulture),
            DateTime instant => instant.ToString("o", CultureInfo.InvariantCulture),
            DateTimeOffset instant => instant.ToString("o", CultureInfo.InvariantCulture),
            _ => inputData,
        };
}

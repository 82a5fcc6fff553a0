using System;
using System.Management.Automation;

namespace PSReplica.Commands.Hosting;

/// <summary>Turns a SyncItem that went through Export-Clixml/Import-Clixml or ConvertTo-Json/ConvertFrom-Json (a property
/// bag with the same property names, enums as names or numbers) back into a SyncItem, so that a saved and approved plan
/// binds to Sync-Directory's -Plan. Registered for PSReplica.SyncItem in PSReplica.Types.ps1xml.</summary>
public sealed class SyncItemConverter : PSTypeConverter
{
    public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
        destinationType == typeof(SyncItem) && sourceValue is PSObject bag && bag.BaseObject is not SyncItem
        && bag.Properties["RelativePath"] is not null && bag.Properties["Action"] is not null
        && bag.Properties["ItemType"] is not null && bag.Properties["Itemize"] is not null;

    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
    {
        var bag = (PSObject)sourceValue;
        return new SyncItem(
            Get<SyncAction>(bag, "Action"),
            Get<SyncItemType>(bag, "ItemType"),
            Get<string>(bag, "RelativePath") ?? string.Empty,
            Get<SyncReason>(bag, "Reason"),
            Get<string>(bag, "Itemize") ?? string.Empty)
        {
            Length = Get<long>(bag, "Length"),
            BytesTransferred = Get<long>(bag, "BytesTransferred"),
            BytesMatched = Get<long>(bag, "BytesMatched"),
            LastWriteTimeUtc = Get<DateTime?>(bag, "LastWriteTimeUtc"),
            LinkTarget = Get<string>(bag, "LinkTarget"),
            DestinationPath = Get<string>(bag, "DestinationPath") ?? string.Empty,
            SourcePath = Get<string>(bag, "SourcePath"),
            PreviousLength = Get<long?>(bag, "PreviousLength"),
            PreviousLastWriteTimeUtc = Get<DateTime?>(bag, "PreviousLastWriteTimeUtc"),
            Plan = PlanOf(bag.Properties["Plan"]?.Value),
        };
    }

    /// <summary>The item's plan: a property bag (Clixml, JSON), or its command line alone (a CSV column holds the plan's
    /// text), which then also tells one plan's items from another's.</summary>
    private static SyncPlanInfo? PlanOf(object? value)
    {
        switch (value is PSObject wrapped ? wrapped.BaseObject : value)
        {
            case null:
                return null;
            case string command:
                return command.Length == 0 ? null : new SyncPlanInfo { Id = IdOf(command), Command = command };
            default:
                var plan = PSObject.AsPSObject(value);
                string text = Get<string>(plan, "Command") ?? string.Empty;
                Guid id = Get<Guid>(plan, "Id");
                return new SyncPlanInfo
                {
                    Id = id == Guid.Empty ? IdOf(text) : id,
                    CreatedUtc = Get<DateTime>(plan, "CreatedUtc"),
                    Command = text,
                };
        }
    }

    private static Guid IdOf(string command) =>
        new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(command)).AsSpan(0, 16));

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new InvalidCastException();

    private static T? Get<T>(PSObject bag, string name)
    {
        object? value = bag.Properties[name]?.Value;
        if (value is null or "")
        {
            // Export-Csv writes a missing value as an empty field.
            return default;
        }

        if (typeof(T) == typeof(PSObject))
        {
            return (T)(object)PSObject.AsPSObject(value);
        }

        try
        {
            return LanguagePrimitives.ConvertTo<T>(value);
        }
        catch (PSInvalidCastException ex)
        {
            throw new SyncException(ErrorIds.PlanInvalid, SyncErrorKind.InvalidArgument,
                $"The plan cannot be applied: the item's {name} '{value}' is not a valid value.", null, ex);
        }
    }
}

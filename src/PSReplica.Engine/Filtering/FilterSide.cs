namespace PSReplica;

/// <summary>Which end of a transfer evaluates the rules: the sender decides what is transferred (include, exclude,
/// hide, show), the receiver what is protected from deletion (include, exclude, protect, risk).</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum FilterSide
{
    Sender,
    Receiver,
}

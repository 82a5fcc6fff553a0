namespace PSReplica;

/// <summary>What a matching rule decides.</summary>
public enum FilterRuleType
{
    Include,
    Exclude,
}

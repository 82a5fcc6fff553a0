namespace PSReplica.Engine.Planning;

/// <summary>Which of rsync's basis-directory options a run uses; rsync allows only one kind per run.</summary>
internal enum BasisKind
{
    None,
    Compare,
    Copy,
    Link,
}

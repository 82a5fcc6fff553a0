namespace PSReplica.Engine.Client;

/// <summary>What the receiving agent wrote for one file: its length, and how much came as literal data or from the basis.</summary>
internal readonly record struct TransferResult(long Length, long LiteralBytes, long MatchedBytes);

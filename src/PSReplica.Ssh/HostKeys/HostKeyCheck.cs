namespace PSReplica.Ssh;

/// <summary>The verdict on a presented host key, with the known_hosts line behind it (if any).</summary>
/// <param name="Verdict">Known, Unknown, Mismatch or Revoked.</param>
/// <param name="Entry">The line that matched (Known, Revoked) or the first line the key disagrees with (Mismatch).</param>
public sealed record HostKeyCheck(HostKeyVerdict Verdict, KnownHostsEntry? Entry);

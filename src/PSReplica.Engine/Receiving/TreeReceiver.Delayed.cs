using PSReplica.Engine.Protocol;

namespace PSReplica.Engine.Receiving;

/// <summary>-DelayUpdates on a push (the "safe-updates" capability), rsync's --delay-updates: after DelayUpdates, the
/// session's writes leave each finished file under the temp (or partial) name a local run gives it, with its attributes
/// set, and note it in the session's <see cref="DelayedRenames"/>; CommitUpdates renames them all into place at the end
/// of the run. The answer lists the files that could not be put in place, each with the reason.</summary>
internal static partial class TreeReceiver
{
    /// <summary>The most failures one CommitUpdates answer lists (it must fit one frame); the count says how many there were.</summary>
    internal const int MaxReportedFailures = 100;

    /// <summary>The longest reason sent for one failure, in UTF-16 units.</summary>
    internal const int MaxFailureMessage = 1000;

    public static byte[] CommitUpdates(SafeTree tree, DelayedRenames delayed)
    {
        List<(string Path, string Message)> failures = delayed.Commit(tree);
        using var answer = new WireWriter(64);
        answer.UInt((uint)failures.Count);
        int listed = System.Math.Min(failures.Count, MaxReportedFailures);
        answer.UInt((uint)listed);
        for (int i = 0; i < listed; i++)
        {
            (string path, string message) = failures[i];
            answer.String(path).String(message.Length > MaxFailureMessage ? message[..MaxFailureMessage] : message);
        }

        return answer.Written.ToArray();
    }
}

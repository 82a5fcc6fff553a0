using System.Runtime.InteropServices;

namespace PSReplica.Ssh.Tests.Scenarios;

/// <summary>renameat2(2) with RENAME_EXCHANGE: swaps two names atomically (a file or directory with a symlink), the
/// attacker's tool for the race tests. Linux only; the engine has no use for it.</summary>
internal static partial class RenameExchange
{
    private const int AtFdCwd = -100;
    private const uint RenameExchangeFlag = 2;

    /// <summary>Returns 0 or the errno.</summary>
    public static int Exchange(string first, string second) =>
        RenameAt2(AtFdCwd, first, AtFdCwd, second, RenameExchangeFlag) == 0 ? 0 : Marshal.GetLastPInvokeError();

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);
}

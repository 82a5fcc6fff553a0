using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>Tests that change what the whole process shares (its environment, its umask) run alone, after the others:
/// a child agent started meanwhile would inherit PSREPLICA_FILESYSTEM, and every file created meanwhile the umask.</summary>
[CollectionDefinition(nameof(SharedProcessState), DisableParallelization = true)]
public sealed class SharedProcessState;

/// <summary>How a run's backend is chosen: PSREPLICA_FILESYSTEM for the process, <see cref="FileSystemBackend.Use"/> for
/// one flow and the tasks it starts; and the portable backend's created modes under a umask that masks nothing.</summary>
[Collection(nameof(SharedProcessState))]
public sealed partial class PortableBackendSelectionTests
{
    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint SetUmask(uint mask);

    [Fact]
    public void The_environment_variable_names_the_backend_in_any_case_and_a_wrong_name_is_an_error()
    {
        // Read now, so that the process's default comes from the environment as it was, not as this test sets it.
        FileSystemBackendKind before = FileSystemBackend.Default;
        string? saved = Environment.GetEnvironmentVariable(FileSystemBackend.EnvironmentVariable);
        try
        {
            Assert.Equal((FileSystemBackendKind.Linux, null), From(null));
            Assert.Equal((FileSystemBackendKind.Linux, null), From(string.Empty));
            Assert.Equal((FileSystemBackendKind.Portable, null), From("portable"));
            Assert.Equal((FileSystemBackendKind.Portable, null), From("PORTABLE"));
            Assert.Equal((FileSystemBackendKind.Linux, null), From("linux"));
            Assert.Equal((FileSystemBackendKind.Linux, null), From("Linux"));
            Assert.Equal(
                ((FileSystemBackendKind?)null, "PSREPLICA_FILESYSTEM='bogus' names no file-system backend; use 'portable' (System.IO, every platform) or 'linux' (Linux only), or leave it unset."),
                From("bogus"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(FileSystemBackend.EnvironmentVariable, saved);
        }

        Assert.Equal(before, FileSystemBackend.Default);
    }

    private static (FileSystemBackendKind? Kind, string? Error) From(string? value)
    {
        Environment.SetEnvironmentVariable(FileSystemBackend.EnvironmentVariable, value);
        FileSystemBackendKind? kind = FileSystemBackend.FromEnvironment(out string? error);
        return (kind, error);
    }

    [Fact]
    public async Task A_scope_flows_into_the_tasks_it_starts_and_ends_when_disposed()
    {
        FileSystemBackendKind outside = FileSystemBackend.Current;
        using (FileSystemBackend.Use(FileSystemBackendKind.Portable))
        {
            Assert.Equal(FileSystemBackendKind.Portable, await Task.Run(() => FileSystemBackend.Current));
            using (FileSystemBackend.Use(FileSystemBackendKind.Linux))
            {
                Assert.Equal(FileSystemBackendKind.Linux, await Task.Run(() => FileSystemBackend.Current));
            }

            Assert.Equal(FileSystemBackendKind.Portable, FileSystemBackend.Current);
            Assert.True(FileSystemBackend.IsPortable);
        }

        Assert.Equal(outside, FileSystemBackend.Current);
        Assert.Equal(outside, await Task.Run(() => FileSystemBackend.Current));
    }

    [Fact]
    public async Task Two_flows_at_once_each_keep_their_own_backend()
    {
        FileSystemBackendKind outside = FileSystemBackend.Current;
        var portableChosen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var linuxChosen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Each flow chooses, then waits until the other has chosen too, then looks: both scopes are open at once.
        Task<FileSystemBackendKind> portable = Task.Run(async () =>
        {
            using FileSystemBackend.Scope scope = FileSystemBackend.Use(FileSystemBackendKind.Portable);
            portableChosen.SetResult();
            await linuxChosen.Task;
            return FileSystemBackend.Current;
        });
        Task<FileSystemBackendKind> linux = Task.Run(async () =>
        {
            using FileSystemBackend.Scope scope = FileSystemBackend.Use(FileSystemBackendKind.Linux);
            linuxChosen.SetResult();
            await portableChosen.Task;
            return FileSystemBackend.Current;
        });

        Assert.Equal(FileSystemBackendKind.Portable, await portable);
        Assert.Equal(FileSystemBackendKind.Linux, await linux);
        Assert.Equal(outside, FileSystemBackend.Current);
    }

    [Fact]
    public void Created_files_and_directories_take_the_mode_asked_for_under_a_umask_that_masks_nothing()
    {
        uint saved = SetUmask(0);
        try
        {
            var create = new PortableBackendTests.Case(string.Empty, f =>
            {
                using SafeFileHandle? a = Posix.OpenAt(f.Directory, "a", Posix.OCreat | Posix.OExcl | Posix.OWrOnly, 0x180, out int errno);
                using SafeFileHandle? b = Posix.OpenAt(f.Directory, "b", Posix.OCreat | Posix.OWrOnly, 0x1B6, out int errnoB);
                return string.Join(", ", errno, errnoB, Posix.MkdirAt(f.Directory, "d", 0x1FF), Posix.MkdirAt(f.Directory, "e", 0x1C0));
            });

            List<string> tree = PortableBackendTests.AssertSame(create).Tree;

            Assert.Contains("./a file 600 size 0 now \"\"", tree);
            Assert.Contains("./b file 666 size 0 now \"\"", tree);
            Assert.Contains("./d directory 777 now", tree);
            Assert.Contains("./e directory 700 now", tree);
        }
        finally
        {
            _ = SetUmask(saved);
        }
    }
}

using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PSReplica.Engine.Tests.Execution;

/// <summary>The portable backend against Linux's own calls: each case builds one small tree twice, runs one call
/// through <see cref="Posix"/> once per backend, and both must answer the same (the errno, or what was opened, read or
/// stated) and leave the same tree (names, types, sizes, contents, link targets, permission bits, times to 100 ns).
/// Where the portable backend cannot answer as Linux does by design, a fact below says what it answers instead and why.</summary>
public sealed class PortableBackendTests
{
    /// <summary>A time at or after this was stamped by the call under test (fixtures are frozen at
    /// <see cref="TestTree.BaseTime"/>, and the times the cases set are older too).</summary>
    private static readonly long s_startedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5;

    private const int Creat = Posix.OCreat | Posix.OWrOnly;

    private const int Excl = Posix.OExcl;

    private const long SetSeconds = 1_700_000_000;

    private const long SetNanoseconds = 123_456_789;

    private static readonly Dictionary<string, Case> s_cases = AllCases();

    /// <summary>The fixture, written as items separated by spaces: "a=text" a file, "d/" a directory, "l->target" a
    /// symbolic link ("&lt;root&gt;" in a target is the fixture's root), "p|" a FIFO.</summary>
    internal sealed record Case(string Items, Func<Fixture, string> Act);

    /// <summary>The fixture's root and a directory handle on it that the backend under test opened.</summary>
    internal sealed record Fixture(string Root, SafeFileHandle Directory)
    {
        public string Path(string name) => System.IO.Path.Join(Root, name);

        public SafeFileHandle Sub(string name) => Must(Directory, name, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow);
    }

    /// <summary>What the call answered and the tree it left.</summary>
    internal sealed record Outcome(string Result, List<string> Tree);

    public static TheoryData<string> CaseNames => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Both_backends_answer_the_same_and_leave_the_same_tree(string name) => _ = AssertSame(s_cases[name]);

    /// <summary>Runs <paramref name="c"/> under each backend and asserts the same outcome; returns Linux's.</summary>
    internal static Outcome AssertSame(Case c)
    {
        Outcome linux = Run(FileSystemBackendKind.Linux, c);
        Outcome portable = Run(FileSystemBackendKind.Portable, c);

        Assert.Equal(linux.Result, portable.Result);
        Assert.Equal(linux.Tree, portable.Tree);
        return linux;
    }

    /// <summary>Builds the fixture in a fresh directory, runs the case's call under <paramref name="kind"/>, and
    /// lists the tree with Linux's own calls.</summary>
    internal static Outcome Run(FileSystemBackendKind kind, Case c)
    {
        using var tree = new TestTree();
        string root = tree.Source;
        using (FileSystemBackend.Use(FileSystemBackendKind.Linux))
        {
            Build(root, c.Items);
            TestTree.Freeze(root);
        }

        string result;
        using (FileSystemBackend.Use(kind))
        {
            using SafeFileHandle directory = Posix.Open(root, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow, 0, out int errno)
                ?? throw new IOException($"cannot open the fixture: {Errno(errno)}");
            result = c.Act(new Fixture(root, directory)).Replace(root, "<root>", StringComparison.Ordinal);
        }

        using (FileSystemBackend.Use(FileSystemBackendKind.Linux))
        {
            var lines = new List<string>();
            List(root, root, ".", lines);
            lines.Sort(StringComparer.Ordinal);
            return new Outcome(result, lines);
        }
    }

    private static void Build(string root, string fixture)
    {
        foreach (string item in fixture.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int arrow = item.IndexOf("->", StringComparison.Ordinal);
            int equals = item.IndexOf('=', StringComparison.Ordinal);
            if (arrow > 0)
            {
                string path = Path.Join(root, item[..arrow]);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.CreateSymbolicLink(path, item[(arrow + 2)..].Replace("<root>", root, StringComparison.Ordinal));
            }
            else if (item.EndsWith('/'))
            {
                Directory.CreateDirectory(Path.Join(root, item));
            }
            else if (item.EndsWith('|'))
            {
                TestTree.Run("mkfifo", Path.Join(root, item[..^1]));
            }
            else
            {
                TestTree.Write(root, item[..equals], item[(equals + 1)..]);
            }
        }
    }

    /// <summary>Lists <paramref name="path"/> and, for a directory (never a link to one), all it holds.</summary>
    private static void List(string root, string path, string relative, List<string> lines)
    {
        Assert.Equal(0, Posix.Stat(path, follow: false, out StatInfo info));
        string line = relative + " " + Describe(info);
        if (info.FileType == Posix.SIfreg)
        {
            line += " \"" + File.ReadAllText(path) + "\"";
        }
        else if (info.FileType == Posix.SIflnk)
        {
            line += " -> " + new FileInfo(path).LinkTarget!.Replace(root, "<root>", StringComparison.Ordinal);
        }

        lines.Add(line);
        if (info.FileType == Posix.SIfdir)
        {
            foreach (string entry in Directory.EnumerateFileSystemEntries(path, "*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                List(root, entry, relative + "/" + Path.GetFileName(entry), lines);
            }
        }
    }

    /// <summary>Type, permission bits, size (not of a directory: the portable backend has none, see below) and time
    /// to 100 ns, or "now" when the call under test stamped it.</summary>
    private static string Describe(StatInfo info)
    {
        string type = info.FileType switch
        {
            Posix.SIfreg => "file",
            Posix.SIfdir => "directory",
            Posix.SIflnk => "link",
            0x1000 => "fifo",
            _ => "type " + Convert.ToString(info.FileType, 8),
        };
        string size = info.FileType == Posix.SIfdir ? string.Empty : " size " + info.Size;
        string time = info.MtimeSeconds >= s_startedAt ? "now" : $"{info.MtimeSeconds}.{info.MtimeNanoseconds / 100:D7}";
        return $"{type} {Convert.ToString(info.Permissions, 8)}{size} {time}";
    }

    /// <summary>The permission bits of a file the fixture created (0666 less the umask), in octal.</summary>
    private static string Created => Convert.ToString(0x1B6 & ~Posix.Umask, 8);

    private static string Errno(int errno) => errno switch
    {
        0 => "0",
        Posix.EPERM => "EPERM",
        Posix.ENOENT => "ENOENT",
        Posix.EIO => "EIO",
        Posix.ENXIO => "ENXIO",
        Posix.EACCES => "EACCES",
        Posix.EBUSY => "EBUSY",
        Posix.EEXIST => "EEXIST",
        Posix.EXDEV => "EXDEV",
        Posix.ENOTDIR => "ENOTDIR",
        Posix.EISDIR => "EISDIR",
        Posix.EINVAL => "EINVAL",
        Posix.ENOSYS => "ENOSYS",
        Posix.ENOTEMPTY => "ENOTEMPTY",
        Posix.ELOOP => "ELOOP",
        Posix.EOPNOTSUPP => "EOPNOTSUPP",
        _ => "errno " + errno,
    };

    /// <summary>What an open gave: the errno, or the stat of what the handle holds (and its content when
    /// <paramref name="read"/>).</summary>
    private static string Opened(SafeFileHandle? handle, int errno, bool read = false)
    {
        if (handle is null)
        {
            return Errno(errno);
        }

        using (handle)
        {
            int statted = Posix.StatAt(handle, string.Empty, out StatInfo info);
            if (statted != 0)
            {
                return "opened, but StatAt gives " + Errno(statted);
            }

            string text = "opened " + Describe(info);
            if (read)
            {
                byte[] buffer = new byte[256];
                text += " reads \"" + Encoding.UTF8.GetString(buffer, 0, RandomAccess.Read(handle, buffer, 0)) + "\"";
            }

            return text;
        }
    }

    /// <summary>OpenAt for a call under test that needs the handle: a failure to open fails the case.</summary>
    private static SafeFileHandle Must(SafeFileHandle directory, string name, int flags, int mode = 0) =>
        Posix.OpenAt(directory, name, flags, mode, out int errno) ?? throw new IOException($"cannot open {name}: {Errno(errno)}");

    private static string OpenAt(Fixture f, string name, int flags, int mode = 0, bool read = false) =>
        Opened(Posix.OpenAt(f.Directory, name, flags, mode, out int errno), errno, read);

    private static string StatAt(SafeFileHandle directory, string name, bool follow = false) =>
        Posix.StatAt(directory, name, follow, out StatInfo info) is int errno and not 0 ? Errno(errno) : Describe(info);

    private static string Write(SafeFileHandle file, string content)
    {
        RandomAccess.Write(file, Encoding.UTF8.GetBytes(content), 0);
        return "written";
    }

    private static Dictionary<string, Case> AllCases()
    {
        var cases = new Dictionary<string, Case>(StringComparer.Ordinal);
        void Add(string name, string fixture, Func<Fixture, string> act) => cases.Add(name, new Case(fixture, act));
        int directory = Posix.ODirectory;
        int noFollow = Posix.ONoFollow;
        int pathOnly = Posix.OPath;

        Add("Open O_CREAT|O_EXCL: an existing file", "a=old", f => OpenAt(f, "a", Creat | Excl, 0x1A4));
        Add("Open O_CREAT|O_EXCL: a dangling link", "l->missing", f => OpenAt(f, "l", Creat | Excl, 0x1A4));
        Add("Open O_CREAT|O_EXCL: a link to a file", "a=old l->a", f => OpenAt(f, "l", Creat | Excl, 0x1A4));
        Add("Open O_CREAT|O_EXCL: a new file, mode 0600", "", f => OpenAt(f, "a", Creat | Excl, 0x180));
        Add("Open O_CREAT: a new file, mode 0666 less the umask", "", f => OpenAt(f, "a", Creat, 0x1B6));
        Add("Open O_CREAT: an existing file keeps its mode and content", "a=old", f => OpenAt(f, "a", Creat, 0x180));
        Add("Open O_CREAT: a dangling link creates its target", "l->t", f => OpenAt(f, "l", Creat, 0x1A4));
        Add("Open O_CREAT: a missing parent", "", f => OpenAt(f, "m/a", Creat, 0x1A4));
        Add("Open O_CREAT: a parent that is a file", "a=old", f => OpenAt(f, "a/x", Creat, 0x1A4));
        Add("Open O_CREAT|O_RDWR: written through the handle", "", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "a", Posix.OCreat | Posix.ORdWr, 0x1A4);
            return Write(file, "through the handle");
        });
        Add("Open O_RDONLY: a missing file", "", f => OpenAt(f, "a", Posix.ORdOnly));
        Add("Open O_RDONLY: a file", "a=content", f => OpenAt(f, "a", Posix.ORdOnly, read: true));
        Add("Open O_WRONLY: a directory", "d/", f => OpenAt(f, "d", Posix.OWrOnly));
        Add("Open O_RDWR: a directory", "d/", f => OpenAt(f, "d", Posix.ORdWr));
        Add("Open O_RDONLY|O_NOFOLLOW: a link to a file", "a=content l->a", f => OpenAt(f, "l", Posix.ORdOnly | noFollow));
        Add("Open O_RDONLY|O_NOFOLLOW: a link to a directory", "d/ l->d", f => OpenAt(f, "l", Posix.ORdOnly | noFollow));
        Add("Open O_RDONLY: a link to a file is followed", "a=content l->a", f => OpenAt(f, "l", Posix.ORdOnly, read: true));
        Add("Open O_RDONLY: a dangling link", "l->missing", f => OpenAt(f, "l", Posix.ORdOnly));
        Add("Open O_RDONLY: a link loop", "l->m m->l", f => OpenAt(f, "l", Posix.ORdOnly));
        Add("Open O_RDONLY: a name below a file", "a=content", f => OpenAt(f, "a/x", Posix.ORdOnly));
        Add("Open O_RDONLY: a name below a link loop", "l->m m->l", f => OpenAt(f, "l/x", Posix.ORdOnly));
        Add("Open O_RDONLY|O_DIRECTORY: a link to a directory is followed", "d/ l->d", f => OpenAt(f, "l", Posix.ORdOnly | directory));
        Add("Open O_RDONLY|O_DIRECTORY|O_NOFOLLOW: a link to a directory", "d/ l->d", f => OpenAt(f, "l", Posix.ORdOnly | directory | noFollow));
        Add("Open O_PATH|O_DIRECTORY|O_NOFOLLOW: a directory", "d/", f => OpenAt(f, "d", pathOnly | directory | noFollow));
        Add("Open O_PATH|O_DIRECTORY|O_NOFOLLOW: a link to a directory", "d/ l->d", f => OpenAt(f, "l", pathOnly | directory | noFollow));
        Add("Open O_PATH|O_DIRECTORY|O_NOFOLLOW: a file", "a=content", f => OpenAt(f, "a", pathOnly | directory | noFollow));
        Add("Open O_PATH|O_DIRECTORY|O_NOFOLLOW: a missing name", "", f => OpenAt(f, "d", pathOnly | directory | noFollow));
        Add("Open O_PATH|O_NOFOLLOW: a link is held itself", "a=content l->a", f => OpenAt(f, "l", pathOnly | noFollow));
        Add("Open O_PATH: a link to a file is followed", "a=content l->a", f => OpenAt(f, "l", pathOnly));
        Add("Open O_PATH: a link to a directory is followed", "d/ l->d", f => OpenAt(f, "l", pathOnly));
        Add("Open O_PATH: a dangling link", "l->missing", f => OpenAt(f, "l", pathOnly));
        Add("OpenAt through a directory handle that OpenAt gave: read", "d/a=inner", f =>
        {
            using SafeFileHandle sub = f.Sub("d");
            return Opened(Posix.OpenAt(sub, "a", Posix.ORdOnly, 0, out int errno), errno, read: true);
        });
        Add("OpenAt through a directory handle that OpenAt gave: create", "d/", f =>
        {
            using SafeFileHandle sub = f.Sub("d");
            return Opened(Posix.OpenAt(sub, "a", Creat | Excl, 0x180, out int errno), errno) + "; " + StatAt(sub, string.Empty);
        });
        Add("Open by path: a file", "a=content", f => Opened(Posix.Open(f.Path("a"), Posix.ORdOnly, 0, out int errno), errno, read: true));

        Add("MkdirAt: an existing directory", "d/", f => Errno(Posix.MkdirAt(f.Directory, "d", 0x1ED)));
        Add("MkdirAt: an existing file", "a=content", f => Errno(Posix.MkdirAt(f.Directory, "a", 0x1ED)));
        Add("MkdirAt: a dangling link", "l->missing", f => Errno(Posix.MkdirAt(f.Directory, "l", 0x1ED)));
        Add("MkdirAt: a missing parent", "", f => Errno(Posix.MkdirAt(f.Directory, "m/d", 0x1ED)));
        Add("MkdirAt: a parent that is a file", "a=content", f => Errno(Posix.MkdirAt(f.Directory, "a/d", 0x1ED)));
        Add("MkdirAt: mode 0700", "", f => Errno(Posix.MkdirAt(f.Directory, "d", 0x1C0)));
        Add("MkdirAt: mode 0777 less the umask", "", f => Errno(Posix.MkdirAt(f.Directory, "d", 0x1FF)));
        Add("MkdirAt: mode 01777 keeps the sticky bit", "", f => Errno(Posix.MkdirAt(f.Directory, "d", 0x3FF)));
        Add("MkdirAt: through a directory handle that OpenAt gave", "d/", f =>
        {
            using SafeFileHandle sub = f.Sub("d");
            return Errno(Posix.MkdirAt(sub, "e", 0x1ED));
        });
        Add("MkdirAt: a parent that is a link loop", "l->m m->l", f => Errno(Posix.MkdirAt(f.Directory, "l/d", 0x1ED)));
        Add("MkdirAt: a parent that is a dangling link", "l->missing", f => Errno(Posix.MkdirAt(f.Directory, "l/d", 0x1ED)));
        Add("Mkdir by path: a parent that is a link to a directory", "d/ l->d", f => Errno(Posix.Mkdir(f.Path("l/e"), 0x1ED)));

        Add("UnlinkAt: a missing name", "", f => Errno(Posix.UnlinkAt(f.Directory, "a", isDirectory: false)));
        Add("UnlinkAt: a file", "a=content", f => Errno(Posix.UnlinkAt(f.Directory, "a", isDirectory: false)));
        Add("UnlinkAt: a directory without isDirectory", "d/", f => Errno(Posix.UnlinkAt(f.Directory, "d", isDirectory: false)));
        Add("UnlinkAt: an empty directory", "d/", f => Errno(Posix.UnlinkAt(f.Directory, "d", isDirectory: true)));
        Add("UnlinkAt: a directory that is not empty", "d/a=content", f => Errno(Posix.UnlinkAt(f.Directory, "d", isDirectory: true)));
        Add("UnlinkAt: a file with isDirectory", "a=content", f => Errno(Posix.UnlinkAt(f.Directory, "a", isDirectory: true)));
        Add("UnlinkAt: a link to a directory removes the link only", "d/a=content l->d", f => Errno(Posix.UnlinkAt(f.Directory, "l", isDirectory: false)));
        Add("UnlinkAt: a link to a directory with isDirectory", "d/ l->d", f => Errno(Posix.UnlinkAt(f.Directory, "l", isDirectory: true)));
        Add("UnlinkAt: a link to a file removes the link only", "a=content l->a", f => Errno(Posix.UnlinkAt(f.Directory, "l", isDirectory: false)));
        Add("UnlinkAt: a dangling link", "l->missing", f => Errno(Posix.UnlinkAt(f.Directory, "l", isDirectory: false)));
        Add("UnlinkAt: a name below a file", "a=content", f => Errno(Posix.UnlinkAt(f.Directory, "a/x", isDirectory: false)));

        Add("RenameAt: a file over a file replaces it", "a=new b=old", f => Errno(Posix.RenameAt(f.Directory, "a", "b")));
        Add("RenameAt: a file over nothing", "a=new", f => Errno(Posix.RenameAt(f.Directory, "a", "b")));
        Add("RenameAt: a file over itself", "a=new", f => Errno(Posix.RenameAt(f.Directory, "a", "a")));
        Add("RenameAt: a file over a directory", "a=new d/x=old", f => Errno(Posix.RenameAt(f.Directory, "a", "d")));
        Add("RenameAt: a file over an empty directory", "a=new d/", f => Errno(Posix.RenameAt(f.Directory, "a", "d")));
        Add("RenameAt: a file over a link replaces the link, not its target", "a=new b=old l->b", f => Errno(Posix.RenameAt(f.Directory, "a", "l")));
        Add("RenameAt: a file into a missing directory", "a=new", f => Errno(Posix.RenameAt(f.Directory, "a", "m/a")));
        Add("RenameAt: a directory over an empty directory replaces it", "d/x=moved e/", f => Errno(Posix.RenameAt(f.Directory, "d", "e")));
        Add("RenameAt: a directory over one that is not empty", "d/x=moved e/y=old", f => Errno(Posix.RenameAt(f.Directory, "d", "e")));
        Add("RenameAt: a directory over a file", "d/x=moved a=old", f => Errno(Posix.RenameAt(f.Directory, "d", "a")));
        Add("RenameAt: a directory over a link to a directory", "d/x=moved e/ l->e", f => Errno(Posix.RenameAt(f.Directory, "d", "l")));
        Add("RenameAt: a directory over itself", "d/x=moved", f => Errno(Posix.RenameAt(f.Directory, "d", "d")));
        Add("RenameAt: a directory into itself", "d/e/", f => Errno(Posix.RenameAt(f.Directory, "d", "d/e/f")));
        Add("RenameAt: a link to a file over a file", "a=target b=old l->a", f => Errno(Posix.RenameAt(f.Directory, "l", "b")));
        Add("RenameAt: a link to a file over nothing", "a=target l->a", f => Errno(Posix.RenameAt(f.Directory, "l", "m")));
        Add("RenameAt: a link to a directory over a file", "d/x=target b=old l->d", f => Errno(Posix.RenameAt(f.Directory, "l", "b")));
        Add("RenameAt: a link to a directory over nothing", "d/x=target l->d", f => Errno(Posix.RenameAt(f.Directory, "l", "m")));
        Add("RenameAt: a link to a directory over an empty directory", "d/x=target e/ l->d", f => Errno(Posix.RenameAt(f.Directory, "l", "e")));
        Add("RenameAt: a dangling link over a file", "b=old l->missing", f => Errno(Posix.RenameAt(f.Directory, "l", "b")));
        Add("RenameAt: a dangling link over nothing", "l->missing", f => Errno(Posix.RenameAt(f.Directory, "l", "m")));
        Add("RenameAt: a missing source", "b=old", f => Errno(Posix.RenameAt(f.Directory, "a", "b")));
        Add("RenameAt: a file to a name below a file", "a=new b=old", f => Errno(Posix.RenameAt(f.Directory, "a", "b/c")));
        Add("RenameAt: a directory to a name below a file", "d/ b=old", f => Errno(Posix.RenameAt(f.Directory, "d", "b/c")));
        Add("RenameAt: a name below a file", "a=new", f => Errno(Posix.RenameAt(f.Directory, "a/x", "b")));
        Add("RenameAt between two directories: a file", "d/a=moved e/b=old", f =>
        {
            using SafeFileHandle from = f.Sub("d");
            using SafeFileHandle to = f.Sub("e");
            return Errno(Posix.RenameAt(from, "a", to, "b"));
        });
        Add("RenameAt between two directories: a directory", "d/s/x=moved e/", f =>
        {
            using SafeFileHandle from = f.Sub("d");
            using SafeFileHandle to = f.Sub("e");
            return Errno(Posix.RenameAt(from, "s", to, "t"));
        });
        Add("Rename by path: a link to a file over a file", "a=target b=old l->a", f => Errno(Posix.Rename(f.Path("l"), f.Path("b"))));

        Add("SymlinkAt: a new name", "", f => Errno(Posix.SymlinkAt("target", f.Directory, "l")));
        Add("SymlinkAt: onto an existing file", "a=content", f => Errno(Posix.SymlinkAt("target", f.Directory, "a")));
        Add("SymlinkAt: onto an existing dangling link", "l->missing", f => Errno(Posix.SymlinkAt("target", f.Directory, "l")));
        Add("SymlinkAt: into a missing directory", "", f => Errno(Posix.SymlinkAt("target", f.Directory, "m/l")));
        Add("SymlinkAt: below a file", "a=content", f => Errno(Posix.SymlinkAt("target", f.Directory, "a/l")));
        Add("ReadLinkAt: a relative link", "l->../x/é", f => Posix.ReadLinkAt(f.Directory, "l", out int errno) ?? Errno(errno));
        Add("ReadLinkAt: an absolute link", "l-><root>/a", f => Posix.ReadLinkAt(f.Directory, "l", out int errno) ?? Errno(errno));
        Add("ReadLinkAt: a file", "a=content", f => Posix.ReadLinkAt(f.Directory, "a", out int errno) ?? Errno(errno));
        Add("ReadLinkAt: a directory", "d/", f => Posix.ReadLinkAt(f.Directory, "d", out int errno) ?? Errno(errno));
        Add("ReadLinkAt: a missing name", "", f => Posix.ReadLinkAt(f.Directory, "l", out int errno) ?? Errno(errno));
        Add("ReadLinkAt: a name below a file", "a=content", f => Posix.ReadLinkAt(f.Directory, "a/l", out int errno) ?? Errno(errno));

        Add("LinkAt: a second name, written through and read through the other", "a=before", f =>
        {
            int linked = Posix.LinkAt(f.Directory, "a", f.Directory, "b");
            using SafeFileHandle b = Must(f.Directory, "b", Posix.OWrOnly);
            Write(b, "AFTER!");
            return Errno(linked) + " " + File.ReadAllText(f.Path("a"));
        });
        Add("LinkAt: onto an existing name", "a=content b=old", f => Errno(Posix.LinkAt(f.Directory, "a", f.Directory, "b")));
        Add("LinkAt: a missing name", "", f => Errno(Posix.LinkAt(f.Directory, "a", f.Directory, "b")));
        Add("LinkAt: a directory", "d/", f => Errno(Posix.LinkAt(f.Directory, "d", f.Directory, "e")));
        Add("LinkAt: a link is linked itself", "a=content l->a", f => Errno(Posix.LinkAt(f.Directory, "l", f.Directory, "m")));
        Add("LinkAt: to a name below a file", "a=content b=old", f => Errno(Posix.LinkAt(f.Directory, "a", f.Directory, "b/c")));
        Add("Link by path: onto an existing name", "a=content b=old", f => Errno(Posix.Link(f.Path("a"), f.Path("b"))));
        Add("Unlink by path: a directory", "d/", f => Errno(Posix.Unlink(f.Path("d"))));
        Add("LinkAt between two directories", "d/a=content e/", f =>
        {
            using SafeFileHandle from = f.Sub("d");
            using SafeFileHandle to = f.Sub("e");
            return Errno(Posix.LinkAt(from, "a", to, "b"));
        });

        Add("StatAt: a file", "a=content", f => StatAt(f.Directory, "a"));
        Add("StatAt: a directory", "d/", f => StatAt(f.Directory, "d"));
        Add("StatAt: a link is its own item, its size the target's length in bytes", "l->tärget", f => StatAt(f.Directory, "l"));
        Add("StatAt following: a link to a directory", "d/ l->d", f => StatAt(f.Directory, "l", follow: true));
        Add("StatAt following: a chain of links to a file", "a=content l->m m->a", f => StatAt(f.Directory, "l", follow: true));
        Add("StatAt following: a dangling link", "l->missing", f => StatAt(f.Directory, "l", follow: true));
        Add("StatAt following: a link loop", "l->m m->l", f => StatAt(f.Directory, "l", follow: true));
        Add("StatAt: a missing name", "", f => StatAt(f.Directory, "a"));
        Add("StatAt: a name below a file", "a=content", f => StatAt(f.Directory, "a/x"));
        Add("StatAt: a name below a dangling link", "l->missing", f => StatAt(f.Directory, "l/x"));
        Add("StatAt: a name below a link to a directory", "d/a=content l->d", f => StatAt(f.Directory, "l/a"));
        Add("StatAt: the directory handle itself", "", f => StatAt(f.Directory, string.Empty));
        Add("StatAt: an open file after it was renamed and written", "a=before", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "a", Posix.ORdWr);
            Write(file, "after the rename");
            return Errno(Posix.RenameAt(f.Directory, "a", "b")) + " " + StatAt(file, string.Empty);
        });
        Add("Stat by path: a link to a file, following", "a=content l->a", f => Posix.Stat(f.Path("l"), follow: true, out StatInfo info) is int e and not 0 ? Errno(e) : Describe(info));

        // Identities differ between the backends (inodes, path hashes), but what is one item must be one in both.
        Add("Identity: a file below a link to a directory, by its path and by handles opened through the link", "d/x=content l->d", f =>
        {
            using SafeFileHandle sub = Must(f.Directory, "l", Posix.ORdOnly | directory);
            using SafeFileHandle file = Must(sub, "x", Posix.ORdOnly | noFollow);
            return SameItem(f.Path("l/x"), follow: false, file);
        });
        Add("Identity: a link to a directory followed by its path and by a handle opened through it", "d/ l->d", f =>
        {
            using SafeFileHandle sub = Must(f.Directory, "l", Posix.ORdOnly | directory);
            return SameItem(f.Path("l"), follow: true, sub);
        });
        Add("Identity: a link to a file followed by its path and by a handle opened through it", "a=content l->a", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "l", Posix.ORdOnly);
            return SameItem(f.Path("l"), follow: true, file);
        });

        Add("SetModificationTimeAt: a file", "a=content", f => Errno(Posix.SetModificationTimeAt(f.Directory, "a", SetSeconds, SetNanoseconds)));
        Add("SetModificationTimeAt: a directory", "d/", f => Errno(Posix.SetModificationTimeAt(f.Directory, "d", SetSeconds, SetNanoseconds)));
        Add("SetModificationTimeAt: a link, not its target", "a=content l->a", f => Errno(Posix.SetModificationTimeAt(f.Directory, "l", SetSeconds, SetNanoseconds)));
        Add("SetModificationTimeAt: a dangling link", "l->missing", f => Errno(Posix.SetModificationTimeAt(f.Directory, "l", SetSeconds, SetNanoseconds)));
        Add("SetModificationTimeAt: a missing name", "", f => Errno(Posix.SetModificationTimeAt(f.Directory, "a", SetSeconds, SetNanoseconds)));
        Add("SetModificationTimeAt: before 1970", "a=content", f => Errno(Posix.SetModificationTimeAt(f.Directory, "a", -1, 999_999_999)));
        Add("SetModificationTimeAt: a name below a file", "a=content", f => Errno(Posix.SetModificationTimeAt(f.Directory, "a/x", SetSeconds, SetNanoseconds)));
        Add("SetModificationTime by path: a link, not its target", "a=content l->a", f => Errno(Posix.SetModificationTime(f.Path("l"), SetSeconds, SetNanoseconds)));
        Add("SetModificationTime: an open file", "a=content", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "a", Posix.OWrOnly);
            return Errno(Posix.SetModificationTime(file, SetSeconds, SetNanoseconds)) + " " + StatAt(file, string.Empty);
        });
        Add("SetModificationTimeHandle: O_PATH of a file", "a=content", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "a", pathOnly | noFollow);
            return Errno(Posix.SetModificationTimeHandle(item, SetSeconds, SetNanoseconds)) + " " + StatAt(item, string.Empty);
        });
        Add("SetModificationTimeHandle: O_PATH|O_NOFOLLOW of a link sets the link's own", "a=content l->a", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "l", pathOnly | noFollow);
            return Errno(Posix.SetModificationTimeHandle(item, SetSeconds, SetNanoseconds));
        });
        Add("SetModificationTimeHandle: O_PATH through a link sets the target's", "a=content l->a", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "l", pathOnly);
            return Errno(Posix.SetModificationTimeHandle(item, SetSeconds, SetNanoseconds));
        });

        Add("RealPath: a chain of links", "d/x=content l->m m->d", f => RealPath(f, "l/x"));
        Add("RealPath: a relative link upwards", "d/e/ t/x=content d/e/l->../../t", f => RealPath(f, "d/e/l/x"));
        Add("RealPath: an absolute link", "t/x=content l-><root>/t", f => RealPath(f, "l/x"));
        Add("RealPath: '..' after a link leaves its target", "a/b/ l->a/b", f => RealPath(f, "l/.."));
        Add("RealPath: '.' and doubled separators", "a/b/", f => RealPath(f, "./a//./b/"));
        Add("RealPath: a link loop", "l->m m->l", f => RealPath(f, "l"));
        Add("RealPath: a missing component", "", f => RealPath(f, "m/x"));
        Add("RealPath: a missing last name", "", f => RealPath(f, "m"));
        Add("RealPath: a name below a file", "a=content", f => RealPath(f, "a/x"));
        Add("RealPath: '..' after a file", "a=content", f => RealPath(f, "a/.."));

        Add("Chmod by path: setuid on a file", "a=content", f => Errno(Posix.Chmod(f.Path("a"), 0x9ED)));
        Add("Chmod by path: sticky and setgid on a directory", "d/", f => Errno(Posix.Chmod(f.Path("d"), 0x7FF)));
        Add("Chmod by path: a link changes its target", "a=content l->a", f => Errno(Posix.Chmod(f.Path("l"), 0x1C0)));
        Add("Chmod by path: a dangling link", "l->missing", f => Errno(Posix.Chmod(f.Path("l"), 0x1C0)));
        Add("Chmod by path: a missing name", "", f => Errno(Posix.Chmod(f.Path("a"), 0x1C0)));
        Add("Chmod by path: a name below a file", "a=content", f => Errno(Posix.Chmod(f.Path("a/x"), 0x1C0)));
        Add("Chmod by path: a link loop", "l->m m->l", f => Errno(Posix.Chmod(f.Path("l"), 0x1C0)));
        Add("Fchmod: an open file, setuid and setgid", "a=content", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "a", Posix.ORdOnly);
            return Errno(Posix.Fchmod(file, 0xDE8)) + " " + StatAt(file, string.Empty);
        });
        Add("Fchmod: a directory handle", "d/", f =>
        {
            using SafeFileHandle sub = f.Sub("d");
            return Errno(Posix.Fchmod(sub, 0x3C0)) + " " + StatAt(sub, string.Empty);
        });
        Add("ChmodHandle: O_PATH of a file, sticky and setuid", "a=content", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "a", pathOnly | noFollow);
            return Errno(Posix.ChmodHandle(item, 0xBED)) + " " + StatAt(item, string.Empty);
        });
        Add("ChmodHandle: O_PATH of a directory", "d/", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "d", pathOnly | directory | noFollow);
            return Errno(Posix.ChmodHandle(item, 0x3E8)) + " " + StatAt(item, string.Empty);
        });
        Add("ChmodHandle: O_PATH through a link changes the target", "a=content l->a", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "l", pathOnly);
            return Errno(Posix.ChmodHandle(item, 0x1C0));
        });
        Add("ChmodHandle: O_PATH|O_NOFOLLOW of a link", "a=content l->a", f =>
        {
            using SafeFileHandle item = Must(f.Directory, "l", pathOnly | noFollow);
            return Errno(Posix.ChmodHandle(item, 0x1C0));
        });

        return cases;
    }

    private static string SameItem(string path, bool follow, SafeFileHandle handle)
    {
        Assert.Equal(0, Posix.Stat(path, follow, out StatInfo byPath));
        Assert.Equal(0, Posix.StatAt(handle, string.Empty, out StatInfo byHandle));
        return (byPath.Device, byPath.Inode) == (byHandle.Device, byHandle.Inode) ? "one item" : "two items";
    }

    private static string RealPath(Fixture f, string relative) =>
        Posix.RealPath(f.Root + "/" + relative, out int errno) ?? Errno(errno);

    [Fact]
    public void Opening_a_FIFO_for_reading_never_waits_for_a_writer()
    {
        // Linux opens a FIFO with O_NONBLOCK at once (the engine's callers then see on the descriptor that it is no
        // regular file). The portable backend refuses it by its type, ENXIO, with O_NONBLOCK or without: System.IO
        // cannot open without blocking, and would wait for a writer. A hang is the failure here.
        var fifo = new Case("p|", f => WithoutHanging(f, () => OpenAt(f, "p", Posix.ORdOnly | Posix.ONonBlock)));
        var blocking = new Case("p|", f => WithoutHanging(f, () => OpenAt(f, "p", Posix.ORdOnly)));

        Assert.Equal($"opened fifo {Created} size 0 {TestTree.BaseTime}.0000000", Run(FileSystemBackendKind.Linux, fifo).Result);
        Assert.Equal("ENXIO", Run(FileSystemBackendKind.Portable, fifo).Result);
        Assert.Equal("ENXIO", Run(FileSystemBackendKind.Portable, blocking).Result);
    }

    /// <summary>Runs <paramref name="open"/> (in the caller's backend: the scope flows into the task) and fails if it
    /// has not returned within ten seconds, after opening the FIFO "p" for writing so the stuck open returns.</summary>
    private static string WithoutHanging(Fixture f, Func<string> open)
    {
        Task<string> opening = Task.Run(open);
        if (!opening.Wait(TimeSpan.FromSeconds(10)))
        {
            using var writer = new FileStream(f.Path("p"), FileMode.Open, FileAccess.Write);
            opening.Wait();
            Assert.Fail("Opening the FIFO waited for a writer.");
        }

        return opening.Result;
    }

    [Fact]
    public void A_FIFO_states_as_a_FIFO_in_the_portable_backend_on_Linux()
    {
        // System.IO knows files, directories and links only: on Linux the portable backend asks the type of what looks
        // like an empty file, so that a scan skips a FIFO as the Linux backend's does (on macOS it cannot: the open, not
        // the stat, keeps a FIFO from being read there). A regular empty file stays a file.
        var stat = new Case("p| e=", f => StatAt(f.Directory, "p") + "; " + StatAt(f.Directory, "e"));

        Assert.Equal(Run(FileSystemBackendKind.Linux, stat).Result, Run(FileSystemBackendKind.Portable, stat).Result);
        Assert.StartsWith("fifo ", Run(FileSystemBackendKind.Portable, stat).Result, StringComparison.Ordinal);
    }

    [Fact]
    public void Times_are_exact_on_Linux_and_kept_to_100_ns_in_the_portable_backend()
    {
        // .NET's DateTime counts 100 ns ticks: the portable backend cannot set or read a finer time.
        var set = new Case("a=content d/ l->a", f => string.Join(", ",
            Errno(Posix.SetModificationTimeAt(f.Directory, "a", SetSeconds, SetNanoseconds)),
            Errno(Posix.SetModificationTimeAt(f.Directory, "l", SetSeconds + 1, SetNanoseconds)),
            Errno(Posix.SetModificationTime(f.Path("d"), SetSeconds + 2, SetNanoseconds)),
            Nanoseconds(f, "a"), Nanoseconds(f, "l"), Nanoseconds(f, "d")));

        Assert.Equal("0, 0, 0, 123456789, 123456789, 123456789", Run(FileSystemBackendKind.Linux, set).Result);
        Assert.Equal("0, 0, 0, 123456700, 123456700, 123456700", Run(FileSystemBackendKind.Portable, set).Result);
    }

    private static string Nanoseconds(Fixture f, string name) =>
        Posix.StatAt(f.Directory, name, out StatInfo info) is int errno and not 0 ? Errno(errno)
            : info.MtimeNanoseconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_directory_has_no_size_in_the_portable_backend()
    {
        // System.IO gives a directory no length; nothing in a transfer uses a directory's size.
        var stat = new Case("d/", f => Posix.StatAt(f.Directory, "d", out StatInfo info) is int errno and not 0 ? Errno(errno) : info.Size.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.NotEqual("0", Run(FileSystemBackendKind.Linux, stat).Result);
        Assert.Equal("0", Run(FileSystemBackendKind.Portable, stat).Result);
    }

    [Fact]
    public void A_directory_handle_holds_the_directory_on_Linux_and_its_path_in_the_portable_backend()
    {
        // A portable directory "handle" is the path it was opened by (System.IO holds no directory open): once the
        // directory is renamed, the handle names nothing, where a descriptor still holds the directory.
        var renamed = new Case("d/a=content", f =>
        {
            using SafeFileHandle sub = f.Sub("d");
            return Errno(Posix.RenameAt(f.Directory, "d", "e")) + " " + StatAt(sub, "a");
        });

        Assert.Equal($"0 file {Created} size 7 {TestTree.BaseTime}.0000000", Run(FileSystemBackendKind.Linux, renamed).Result);
        Assert.Equal("0 ENOENT", Run(FileSystemBackendKind.Portable, renamed).Result);
    }

    [Fact]
    public void A_directory_opens_for_reading_only_as_a_directory_in_the_portable_backend()
    {
        // Linux gives a descriptor for O_RDONLY of a directory, whose reads fail (EISDIR, an IOException). System.IO
        // cannot open a directory, and a path handle would fail a read with NotSupportedException, which no caller
        // catches: the portable backend refuses the open, EISDIR, as for writing. O_DIRECTORY or O_PATH opens it.
        var read = new Case("d/ l->d", f => string.Join(", ", OpenAt(f, "d", Posix.ORdOnly), OpenAt(f, "l", Posix.ORdOnly), ReadDirectory(f)));

        string opened = $"opened directory {Convert.ToString(0x1FF & ~Posix.Umask, 8)} {TestTree.BaseTime}.0000000";
        Assert.Equal($"{opened}, {opened}, IOException",
            Run(FileSystemBackendKind.Linux, read).Result);
        Assert.Equal("EISDIR, EISDIR, EISDIR", Run(FileSystemBackendKind.Portable, read).Result);
    }

    private static string ReadDirectory(Fixture f)
    {
        using SafeFileHandle? directory = Posix.OpenAt(f.Directory, "d", Posix.ORdOnly, 0, out int errno);
        if (directory is null)
        {
            return Errno(errno);
        }

        try
        {
            return "read " + RandomAccess.Read(directory, new byte[16], 0);
        }
        catch (IOException)
        {
            return "IOException";
        }
    }

    [Fact]
    public void A_dot_dot_after_a_link_leaves_the_link_s_directory_in_the_portable_backend()
    {
        // System.IO makes every path full by its text before any call (as Windows itself does): "l/.." is the directory
        // that holds l, where Linux goes up from l's target. The engine's names never hold "..". RealPath walks as the
        // kernel does (a case above).
        var up = new Case("a/b/ a/marker=x l->a/b", f => StatAt(f.Directory, "l/../marker"));

        Assert.Equal($"file {Created} size 1 {TestTree.BaseTime}.0000000", Run(FileSystemBackendKind.Linux, up).Result);
        Assert.Equal("ENOENT", Run(FileSystemBackendKind.Portable, up).Result);
    }

    [Fact]
    public void Owners_locks_and_kernel_copies_are_refused_by_the_portable_backend()
    {
        // Owners are neither read nor set (System.IO has no owner ids); flock and copy_file_range have no System.IO
        // counterpart, and their callers fall back (no lock, a copy through user space).
        var calls = new Case("a=content", f =>
        {
            using SafeFileHandle file = Must(f.Directory, "a", Posix.ORdOnly);
            using SafeFileHandle copy = Must(f.Directory, "b", Creat | Excl, 0x1A4);
            long copied = Posix.CopyFileRange(Posix.Descriptor(file), Posix.Descriptor(copy), 1);
            return string.Join(", ",
                Errno(Posix.LchownAt(f.Directory, "a", 0, 0)),
                Errno(Posix.Fchown(file, 0, 0)),
                Errno(Posix.LockShared(file)),
                copied < 0 ? Errno((int)-copied) : "copied " + copied,
                Posix.TracksIdentity ? "identities" : "no identities");
        });

        Assert.Equal("0, 0, 0, copied 1, identities", Run(FileSystemBackendKind.Linux, calls).Result);
        Assert.Equal("EOPNOTSUPP, EOPNOTSUPP, ENOSYS, ENOSYS, no identities", Run(FileSystemBackendKind.Portable, calls).Result);
    }
}

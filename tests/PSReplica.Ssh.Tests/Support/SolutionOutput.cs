using System;
using System.IO;

namespace PSReplica.Ssh.Tests;

/// <summary>The build output of another project of the solution, in the configuration and framework these tests were
/// built in (this project references those projects without their assemblies, so they are built first).</summary>
public static class SolutionOutput
{
    /// <summary>The solution's root folder.</summary>
    public static string Root
    {
        get
        {
            // <root>/tests/PSReplica.Ssh.Tests/bin/<configuration>/<framework>/
            var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            return output.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        }
    }

    public static string Of(string project)
    {
        // <root>/tests/PSReplica.Ssh.Tests/bin/<configuration>/<framework>/
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        DirectoryInfo configuration = output.Parent!;
        DirectoryInfo root = configuration.Parent!.Parent!.Parent!.Parent!;
        string path = Path.Join(root.FullName, "src", project, "bin", configuration.Name, output.Name);
        Assert.True(Directory.Exists(path), $"{project} is not built at '{path}'.");
        return path;
    }
}

using System.Reflection;

namespace PSReplica.Engine.Tests;

public sealed class ArchitectureTests
{
    private static readonly Assembly s_engine = typeof(LocalReplicator).Assembly;

    [Fact]
    public void Engine_is_the_PSReplica_Engine_assembly()
    {
        Assert.Equal("PSReplica.Engine", s_engine.GetName().Name);
    }

    [Fact]
    public void Engine_does_not_reference_PowerShell()
    {
        AssemblyName[] references = s_engine.GetReferencedAssemblies();
        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, r => r.Name is "System.Management.Automation" or "Microsoft.PowerShell.SDK" or "PowerShellStandard.Library");
        Assert.DoesNotContain(references, r => r.Name!.StartsWith("Microsoft.PowerShell", StringComparison.Ordinal));
    }

    [Fact]
    public void Engine_does_not_reference_SSH_or_Mono()
    {
        AssemblyName[] references = s_engine.GetReferencedAssemblies();
        Assert.DoesNotContain(references, r => r.Name is "Renci.SshNet" or "Mono.Posix" or "Mono.Posix.NETStandard");
    }

    /// <summary>Platform calls live behind the file-system facade: Linux's in LinuxCalls (which the platform analyzer
    /// knows as Linux-only, so a call from code not guarded for Linux fails the build), the portable backend's few in
    /// PortableCalls, and the extended-attribute calls in Posix itself, each guarded there.</summary>
    [Fact]
    public void Platform_calls_are_declared_only_behind_the_file_system_facade()
    {
        var declaring = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Type type in s_engine.GetTypes())
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0)
                {
                    declaring.Add(type.FullName!);
                }
            }
        }

        Assert.Equal(
            ["PSReplica.Engine.Native.LinuxCalls", "PSReplica.Engine.Native.PortableCalls", "PSReplica.Engine.Native.Posix"],
            declaring);
        Type linux = s_engine.GetType("PSReplica.Engine.Native.LinuxCalls", throwOnError: true)!;
        var platform = linux.GetCustomAttribute<System.Runtime.Versioning.SupportedOSPlatformAttribute>();
        Assert.Equal("linux", platform?.PlatformName);
    }

    [Theory]
    [InlineData("PSReplica.SyncItem")]
    [InlineData("PSReplica.SyncSummary")]
    [InlineData("PSReplica.SyncFilter")]
    [InlineData("PSReplica.SyncPlan")]
    [InlineData("PSReplica.SyncOptions")]
    [InlineData("PSReplica.FilterRule")]
    [InlineData("PSReplica.SyncException")]
    [InlineData("PSReplica.ErrorIds")]
    [InlineData("PSReplica.ISyncObserver")]
    public void Contract_types_are_public_under_their_contract_names(string fullName)
    {
        Type? type = s_engine.GetType(fullName, throwOnError: false);
        Assert.NotNull(type);
        Assert.True(type.IsPublic, $"{fullName} must be public");
    }

    [Fact]
    public void SyncItem_exposes_the_documented_properties()
    {
        string[] expected = ["Action", "ItemType", "RelativePath", "Length", "BytesTransferred", "BytesMatched", "Reason", "Itemize", "LastWriteTimeUtc"];
        string[] actual = typeof(SyncItem).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name).ToArray();
        Assert.All(expected, name => Assert.Contains(name, actual));
    }

    [Fact]
    public void SyncFilter_exposes_Test_and_Explain()
    {
        Assert.NotNull(typeof(SyncFilter).GetMethod("Test", [typeof(string), typeof(bool)]));
        Assert.NotNull(typeof(SyncFilter).GetMethod("Explain", [typeof(string), typeof(bool)]));
        Assert.NotNull(typeof(SyncFilter).GetProperty("Rules"));
    }

    [Fact]
    public void Public_classes_of_the_engine_are_sealed_or_static()
    {
        Type[] open = s_engine.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsSealed && !(t.IsAbstract && t.IsSealed))
            .ToArray();
        Assert.Empty(open);
    }
}

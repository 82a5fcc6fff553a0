using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace PSReplica.Ssh.Tests;

public sealed class ArchitectureTests
{
    private static readonly Assembly s_ssh = typeof(SshConnector).Assembly;

    [Fact]
    public void No_public_member_shows_an_SSH_NET_type()
    {
        var leaks = new List<string>();
        foreach (Type type in s_ssh.GetExportedTypes())
        {
            foreach (Type shown in Shown(type))
            {
                if (IsSshNet(shown))
                {
                    leaks.Add($"{type.Name}: {shown.FullName}");
                }
            }
        }

        Assert.Empty(leaks);
        Assert.Contains(s_ssh.GetReferencedAssemblies(), r => r.Name == "Renci.SshNet");
    }

    [Fact]
    public void The_transport_types_are_public_for_the_cmdlets_and_the_agent_wiring()
    {
        Type[] expected = [typeof(RemotePath), typeof(SshEndpoint), typeof(SshConfigFile), typeof(KnownHostsFile), typeof(SshConnectionOptions),
            typeof(SshConnector), typeof(SshSession), typeof(ICommandChannel), typeof(ExternalSshCommand), typeof(SftpSession),
            typeof(Transport.RemoteRunner), typeof(Transport.RemoteRunSettings), typeof(Transport.RemoteConnectionSettings)];
        Assert.All(expected, t => Assert.True(t.IsPublic, t.Name));
        Assert.True(typeof(ICommandChannel).IsAssignableFrom(typeof(ExternalSshCommand)));
    }

    /// <summary>Issue 13: the cmdlets are thin adapters. They build RemoteRunSettings and call RemoteRunner; connecting,
    /// starting the agent, falling back and running either replicator is the transport's business, where xunit reaches it.
    /// Likewise the -FilesFrom rewrite is the engine's (OptionNormalizer).</summary>
    [Fact]
    public void The_cmdlets_reach_the_transport_only_through_RemoteRunner()
    {
        using var pe = new PEReader(File.OpenRead(Path.Join(SolutionOutput.Of("PSReplica"), "PSReplica.dll")));
        MetadataReader reader = pe.GetMetadataReader();
        var assemblies = new List<string>();
        foreach (AssemblyReferenceHandle handle in reader.AssemblyReferences)
        {
            assemblies.Add(reader.GetString(reader.GetAssemblyReference(handle).Name));
        }

        var used = new List<string>();
        foreach (TypeReferenceHandle handle in reader.TypeReferences)
        {
            TypeReference type = reader.GetTypeReference(handle);
            if (type.ResolutionScope.Kind == HandleKind.AssemblyReference)
            {
                string assembly = reader.GetString(reader.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name);
                used.Add(assembly + ":" + reader.GetString(type.Namespace) + "." + reader.GetString(type.Name));
            }
        }

        Assert.Contains("PSReplica.Ssh", assemblies);
        Assert.DoesNotContain("Renci.SshNet", assemblies);
        string[] allowed = ["PSReplica.Ssh:PSReplica.Ssh.RemotePath", "PSReplica.Ssh:PSReplica.Ssh.Transport.RemoteConnectionSettings",
            "PSReplica.Ssh:PSReplica.Ssh.Transport.RemoteRunSettings", "PSReplica.Ssh:PSReplica.Ssh.Transport.RemoteRunner"];
        Assert.DoesNotContain(used, u => u.StartsWith("PSReplica.Ssh:", StringComparison.Ordinal) && !allowed.Contains(u));
        Assert.Contains("PSReplica.Ssh:PSReplica.Ssh.Transport.RemoteRunner", used);
        string[] engineTransport = ["PSReplica.Engine:PSReplica.RemoteReplicator", "PSReplica.Engine:PSReplica.RemoteSessionOptions",
            "PSReplica.Engine:PSReplica.Engine.Scanning.LocalScan", "PSReplica.Engine:PSReplica.FilesFromList"];
        Assert.Empty(used.Intersect(engineTransport));
    }

    private static bool IsSshNet(Type type)
    {
        if (type.HasElementType)
        {
            return IsSshNet(type.GetElementType()!);
        }

        return type.Assembly.GetName().Name == "Renci.SshNet" || (type.IsGenericType && type.GetGenericArguments().Any(IsSshNet));
    }

    private static IEnumerable<Type> Shown(Type type)
    {
        const BindingFlags Visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is not null)
        {
            yield return type.BaseType;
        }

        foreach (Type implemented in type.GetInterfaces())
        {
            yield return implemented;
        }

        foreach (MemberInfo member in type.GetMembers(Visible | BindingFlags.NonPublic))
        {
            switch (member)
            {
                case PropertyInfo p when p.GetMethod?.IsPublic == true || p.GetMethod?.IsFamily == true:
                    yield return p.PropertyType;
                    break;
                case FieldInfo f when f.IsPublic || f.IsFamily:
                    yield return f.FieldType;
                    break;
                case MethodBase m when m.IsPublic || m.IsFamily:
                    if (m is MethodInfo method)
                    {
                        yield return method.ReturnType;
                    }

                    foreach (ParameterInfo parameter in m.GetParameters())
                    {
                        yield return parameter.ParameterType;
                    }

                    break;
                case EventInfo e when e.AddMethod?.IsPublic == true:
                    yield return e.EventHandlerType!;
                    break;
            }
        }
    }
}

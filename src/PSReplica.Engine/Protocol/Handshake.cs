using System.Reflection;
using PSReplica.Engine.Agent;

namespace PSReplica.Engine.Protocol;

/// <summary>The start of a session, on stream 0 before the multiplexer runs. The controller sends Hello (magic,
/// the protocol versions it speaks, its capabilities, the idle timeout), the agent answers Welcome (magic, the chosen
/// version, its own version, the capabilities both have), the controller sends Open (role and root) and the agent
/// answers Opened (whether the root exists, and its entry). Any failure is an error frame on stream 0.</summary>
internal static class Handshake
{
    public const uint Magic = 0x50525350; // "PSRP" little-endian
    public const int MinVersion = 1;
    public const int MaxVersion = 2;

    /// <summary>What this build can do; a session uses the intersection of both sides' lists.</summary>
    public static readonly IReadOnlyList<string> Capabilities = ["delta-xxh3", "list-recursive", "owner", Deflate, OrderedChanges, ListingFilters, BasisTrees, PartialFiles, CompactListings, WriteBatches, ReadBatches, SafeUpdates, VerifyCopies, OneFileSystem, FileSystemTraits, ExtendedAttributes, MoveWithin, Sparse, Specials, WideWindows, LinkSymlinks, VerifyBasisCopies, DefaultPermissions];

    /// <summary>LinkSymlinkFromTree (AgentRequest.Trees.cs): -LinkDest on a push hard-links a symbolic link the basis
    /// holds unchanged, as rsync does; without it such a link is made anew.</summary>
    public const string LinkSymlinks = "link-symlinks";

    /// <summary>DescribeTreeCopy (AgentRequest.Trees.cs): -CompareDest with -RemoveSourceFiles on a push removes a source
    /// file that a basis directory holds, once that file is verified by its checksum (as rsync removes it); without it
    /// such a source stays.</summary>
    public const string VerifyBasisCopies = "verify-basis-copies";

    /// <summary>Attributes may carry <see cref="AttributeFields.DefaultPermissions"/>: without -Preserve Permissions, a
    /// push gives new items the server's default permissions (the directory's default ACL, else the agent's umask), as
    /// rsync's receiver does; without it, the controller's umask.</summary>
    public const string DefaultPermissions = "default-permissions";

    /// <summary>The capability for deflate-compressed data frames.</summary>
    public const string Deflate = "deflate";

    /// <summary>A receiver may widen a stream's window to <see cref="ProtocolLimits.WideStreamWindow"/> with one extra grant
    /// (<see cref="MuxStream.Widen"/>); without it, a grant that leaves a sender more than two windows of credit ends the session.</summary>
    public const string WideWindows = "wide-window";

    /// <summary>Version 2: the agent carries out create, link, set-attributes and delete requests one at a time in
    /// arrival order, and starts any other request only after those that arrived before it (Remote/RequestOrder.cs).</summary>
    public const string OrderedChanges = "ordered-changes";

    /// <summary>Version 2: List requests may carry <see cref="ListingOptions"/> (the filter applied by the agent's walk,
    /// per-directory filter files sent along, checksums, links followed).</summary>
    public const string ListingFilters = "listing-filters";

    /// <summary>The agent serves the requests of AgentRequest.Trees.cs: basis directories, backups, hard links, source removal.</summary>
    public const string BasisTrees = "trees";

    /// <summary>PartialSignature and ApplyPartialDelta: -Partial and -PartialDirectory on a push.</summary>
    public const string PartialFiles = "partial";

    /// <summary>DelayUpdates, CommitUpdates, ApplyInplaceDelta and WriteInplace (AgentRequest.SafeUpdates.cs): -DelayUpdates
    /// and -Inplace on a push.</summary>
    public const string SafeUpdates = "safe-updates";

    /// <summary>DescribeFileSystem (AgentRequest.Trees.cs): a push adapts to the destination's file system (FAT's 2 s times,
    /// no owners, case-insensitive names) as a local run does.</summary>
    public const string FileSystemTraits = "file-system-traits";

    /// <summary>MoveWithin (AgentRequest.Trees.cs): -Watch on a push repeats a source directory's rename at the destination
    /// instead of copying the directory again under its new name.</summary>
    public const string MoveWithin = "move-within";

    /// <summary>SparseFiles (RequestType.cs): -Sparse on a push, the agent writing blocks of zeros as holes. An agent
    /// without it is never asked: -Sparse is refused before the run instead.</summary>
    public const string Sparse = "sparse";

    /// <summary>The listing option <see cref="ListingFeatures.DeviceNumbers"/> and the CreateNode request
    /// (AgentRequest.Nodes.cs): -Preserve Devices and Specials, push and pull. With it, a RemoveSource request may name the
    /// node it removes (its type and device number, after the time) and a DescribeCopy answer carries a device's number,
    /// so -RemoveSourceFiles verifies and removes nodes as rsync does. An agent without it would end the session on the
    /// unknown bit or request, so the options are refused before the run instead.</summary>
    public const string Specials = "specials";

    /// <summary>DescribeCopy (AgentRequest.Trees.cs): -RemoveSourceFiles on a push, each copy verified by its checksum.</summary>
    public const string VerifyCopies = "verify-copies";

    /// <summary>The listing option <see cref="ListingFeatures.OneFileSystem"/>: -OneFileSystem on a pull. An agent without it
    /// would refuse the unknown flag as a violation, so the option is refused before the run instead.</summary>
    public const string OneFileSystem = "one-file-system";

    /// <summary>The listing option <see cref="ListingFeatures.ExtendedAttributes"/> and the attribute field
    /// <see cref="AttributeFields.ExtendedAttributes"/>: -Preserve Acls and ExtendedAttributes, push and pull. An agent
    /// without it would refuse both as violations, so the options are refused before the run instead.</summary>
    public const string ExtendedAttributes = "xattrs";

    /// <summary>List answers encode their entries relative to the previous one (<see cref="CompactListingCodec"/>);
    /// without it, each entry carries every field (<see cref="ListingEntry.Write"/>).</summary>
    public const string CompactListings = "listing-compact";

    /// <summary>WriteBatch requests: small new files sent back to back on one stream instead of a request each.</summary>
    public const string WriteBatches = "write-batch";

    /// <summary>ReadBatch requests: small files read back to back on one stream instead of a request each.</summary>
    public const string ReadBatches = "read-batch";

    public static string SoftwareVersion { get; } =
        typeof(Handshake).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    /// <param name="CompressionLevel">Deflate level 1 to 9 for data frames, 0 for none (-Compress, -CompressionLevel).</param>
    /// <param name="BandwidthLimit">Bytes per second each side may send, 0 for no limit (-BandwidthLimit).</param>
    public sealed record Hello(int MinVersion, int MaxVersion, IReadOnlyList<string> Capabilities, TimeSpan IdleTimeout, string Version,
        int CompressionLevel = 0, long BandwidthLimit = 0);

    public sealed record Welcome(int Version, string AgentVersion, IReadOnlyList<string> Capabilities);

    /// <summary>The controller's side: Hello, Welcome, Open, Opened. Returns the agreement and the root's entry (null when
    /// the root does not exist).</summary>
    public static async Task<(Welcome Welcome, ListingEntry? Root)> ConnectAsync(FrameReader reader, FrameWriter writer, Hello hello,
        RemoteSide role, string root, TimeSpan timeout, CancellationToken cancellation)
    {
        using (var message = new WireWriter())
        {
            message.Byte((byte)ControlType.Hello).UInt32Fixed(Magic).UInt((uint)hello.MinVersion).UInt((uint)hello.MaxVersion);
            WriteList(message, hello.Capabilities);
            message.UInt(hello.IdleTimeout == Timeout.InfiniteTimeSpan ? 0 : (ulong)hello.IdleTimeout.TotalMilliseconds).String(hello.Version)
                .UInt((uint)hello.CompressionLevel).UInt((ulong)hello.BandwidthLimit);
            await writer.WriteAsync(FrameKind.Control, 0, message.WrittenMemory, cancellation).ConfigureAwait(false);
        }

        Welcome welcome;
        using (Frame frame = await ReadControlAsync(reader, ControlType.Welcome, timeout, cancellation).ConfigureAwait(false))
        {
            var r = new WireReader(frame.Payload[1..]);
            if (r.UInt32Fixed() != Magic)
            {
                throw ProtocolFault.Violation("the agent's answer does not start with the protocol's magic number");
            }

            int version = r.Int32(int.MaxValue);
            string agentVersion = r.String(256);
            IReadOnlyList<string> capabilities = ReadList(ref r);
            r.ExpectEnd();
            if (version < hello.MinVersion || version > hello.MaxVersion)
            {
                throw Mismatch(version, hello.MinVersion, hello.MaxVersion);
            }

            welcome = new Welcome(version, ProtocolFault.Printable(agentVersion), capabilities);
        }

        using (var message = new WireWriter())
        {
            message.Byte((byte)ControlType.Open).Byte((byte)role).String(root);
            await writer.WriteAsync(FrameKind.Control, 0, message.WrittenMemory, cancellation).ConfigureAwait(false);
        }

        using (Frame frame = await ReadControlAsync(reader, ControlType.Opened, timeout, cancellation).ConfigureAwait(false))
        {
            var r = new WireReader(frame.Payload[1..]);
            ListingEntry? entry = null;
            if (r.UInt(1) == 1)
            {
                entry = ListingEntry.Read(ref r, isRoot: true);
            }

            r.ExpectEnd();
            return (welcome, entry);
        }
    }

    /// <summary>The agent's side up to Open: returns the controller's Hello, the chosen version, the role and the root.</summary>
    public static async Task<(Hello Hello, RemoteSide Role, string Root)> AcceptAsync(FrameReader reader, FrameWriter writer, TimeSpan timeout,
        CancellationToken cancellation)
    {
        Hello hello;
        using (Frame frame = await ReadControlAsync(reader, ControlType.Hello, timeout, cancellation).ConfigureAwait(false))
        {
            var r = new WireReader(frame.Payload[1..]);
            if (r.UInt32Fixed() != Magic)
            {
                throw ProtocolFault.Violation("the controller's greeting does not start with the protocol's magic number");
            }

            int min = r.Int32(int.MaxValue);
            int max = r.Int32(int.MaxValue);
            IReadOnlyList<string> capabilities = ReadList(ref r);
            ulong idle = r.UInt(uint.MaxValue);
            string version = r.String(256);
            int level = r.Int32(9);
            long bandwidth = r.Int64();
            r.ExpectEnd();
            hello = new Hello(min, max, capabilities, idle == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(idle), version, level, bandwidth);
        }

        int chosen = Math.Min(hello.MaxVersion, MaxVersion);
        if (chosen < Math.Max(hello.MinVersion, MinVersion))
        {
            throw Mismatch(hello.MaxVersion, MinVersion, MaxVersion);
        }

        var common = new List<string>();
        foreach (string capability in hello.Capabilities)
        {
            if (Contains(Capabilities, capability))
            {
                common.Add(capability);
            }
        }

        using (var message = new WireWriter())
        {
            message.Byte((byte)ControlType.Welcome).UInt32Fixed(Magic).UInt((uint)chosen).String(SoftwareVersion);
            WriteList(message, common);
            await writer.WriteAsync(FrameKind.Control, 0, message.WrittenMemory, cancellation).ConfigureAwait(false);
        }

        using (Frame frame = await ReadControlAsync(reader, ControlType.Open, timeout, cancellation).ConfigureAwait(false))
        {
            var r = new WireReader(frame.Payload[1..]);
            byte role = r.Byte();
            if (role is not ((byte)RemoteSide.Source or (byte)RemoteSide.Destination))
            {
                throw ProtocolFault.Violation($"an unknown role {role}");
            }

            string root = r.String(ProtocolLimits.MaxPathBytes);
            r.ExpectEnd();
            if (root.Length == 0 || root.Contains('\0', StringComparison.Ordinal))
            {
                throw ProtocolFault.UnsafePath(root, "not a valid root");
            }

            return (hello with { Capabilities = common }, (RemoteSide)role, root);
        }
    }

    /// <summary>The agent's answer to Open.</summary>
    public static async Task SendOpenedAsync(FrameWriter writer, ListingEntry? root, CancellationToken cancellation)
    {
        using var message = new WireWriter();
        message.Byte((byte)ControlType.Opened);
        if (root is { } entry)
        {
            message.Byte(1);
            entry.Write(message);
        }
        else
        {
            message.Byte(0);
        }

        await writer.WriteAsync(FrameKind.Control, 0, message.WrittenMemory, cancellation).ConfigureAwait(false);
    }

    /// <summary>Reads the next frame of the handshake within <paramref name="timeout"/>: the expected control message, or
    /// the peer's error on stream 0 (thrown as that error).</summary>
    private static async Task<Frame> ReadControlAsync(FrameReader reader, ControlType expected, TimeSpan timeout, CancellationToken cancellation)
    {
        Frame? frame;
        try
        {
            frame = await reader.ReadAsync(timeout, cancellation).ConfigureAwait(false);
        }
        catch (SyncException ex) when (ex.ErrorId == ErrorIds.PeerTimeout)
        {
            throw new SyncException(ErrorIds.PeerTimeout, SyncErrorKind.ReadError,
                $"The peer did not complete the handshake within {timeout.TotalSeconds:0.###} seconds.", null, ex);
        }

        if (frame is null)
        {
            throw ProtocolFault.ConnectionLost("the peer closed the connection during the handshake");
        }

        if (frame.Kind == FrameKind.Error && frame.Id == 0)
        {
            using (frame)
            {
                throw WireError.Read(frame.Payload, "agent");
            }
        }

        if (frame.Kind != FrameKind.Control || frame.Id != 0 || frame.Length == 0 || frame.Payload[0] != (byte)expected)
        {
            frame.Dispose();
            throw ProtocolFault.Violation($"a {frame.Kind} frame where the handshake expects {expected}");
        }

        return frame;
    }

    private static SyncException Mismatch(int version, int min, int max) =>
        new(ErrorIds.ProtocolVersionMismatch, SyncErrorKind.InvalidOperation,
            $"The peer speaks protocol version {version}; this side speaks {min} to {max}. Install matching PSReplica versions on both ends.");

    private static void WriteList(WireWriter writer, IReadOnlyList<string> items)
    {
        writer.UInt((uint)items.Count);
        foreach (string item in items)
        {
            writer.String(item);
        }
    }

    private static List<string> ReadList(ref WireReader reader)
    {
        int count = reader.Count(ProtocolLimits.MaxCapabilities, 1);
        var items = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            items.Add(reader.String(64));
        }

        return items;
    }

    private static bool Contains(IReadOnlyList<string> list, string item)
    {
        foreach (string candidate in list)
        {
            if (string.Equals(candidate, item, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

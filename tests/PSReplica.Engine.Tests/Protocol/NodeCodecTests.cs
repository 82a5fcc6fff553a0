namespace PSReplica.Engine.Tests.Protocol;

/// <summary>What the "specials" capability adds to the wire: a device's number after its listing entry (both encodings,
/// only with the DeviceNumbers feature), the CreateNode request and the node a RemoveSource request names, each read with
/// its bounds checked.</summary>
public sealed class NodeCodecTests
{
    private static readonly StatInfo Device = new(Posix.SIfchr | 0x1B6, 1, 0, 0, 9, 0, 1_600_000_000, 5, 1, Rdev: (1UL << 32) | 3);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_device_number_round_trips_in_both_encodings(bool compact)
    {
        var entries = new List<ListingEntry>
        {
            new("blk", Device with { Mode = Posix.SIfblk | 0x180, Rdev = (259UL << 32) | 0xFFFF_FFFF }, null) { ListsDeviceNumbers = true },
            new("chr", Device, null) { ListsDeviceNumbers = true },
            new("fifo", Device with { Mode = Posix.SIfifo | 0x1A4, Rdev = 0 }, null) { ListsDeviceNumbers = true },
        };
        using var writer = new WireWriter();
        var codec = new CompactListingCodec();
        foreach (ListingEntry entry in entries)
        {
            if (compact)
            {
                codec.Write(writer, entry);
            }
            else
            {
                entry.Write(writer);
            }
        }

        var reader = new WireReader(writer.Written);
        var back = new CompactListingCodec();
        foreach (ListingEntry entry in entries)
        {
            ListingEntry read = compact ? back.Read(ref reader, checksums: false, devices: true) : ListingEntry.Read(ref reader, devices: true);
            Assert.Equal(entry.Stat.Rdev, read.Stat.Rdev);
            Assert.Equal(entry.Kind, read.Kind);
            Assert.Equal(entry.Stat.Rdev, read.ToFileEntry("/x/" + read.Name).Rdev);
        }

        reader.ExpectEnd();
    }

    [Fact]
    public void Without_the_feature_no_number_is_sent_and_none_is_read()
    {
        using var writer = new WireWriter();
        new ListingEntry("chr", Device, null).Write(writer);
        var reader = new WireReader(writer.Written);
        ListingEntry read = ListingEntry.Read(ref reader);
        reader.ExpectEnd();
        Assert.Equal(0UL, read.Stat.Rdev);
    }

    [Fact]
    public void A_major_beyond_32_bits_is_a_violation()
    {
        using var writer = new WireWriter();
        new ListingEntry("chr", Device, null).Write(writer);
        writer.UInt(1UL << 32).UInt(3);
        byte[] bytes = writer.Written.ToArray();
        SyncException error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(bytes);
            ListingEntry.Read(ref reader, devices: true);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void A_listing_cut_inside_a_device_number_is_a_violation()
    {
        using var writer = new WireWriter();
        new CompactListingCodec().Write(writer, new ListingEntry("chr", Device, null));
        writer.UInt(1);
        byte[] bytes = writer.Written.ToArray();
        SyncException error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(bytes);
            new CompactListingCodec().Read(ref reader, checksums: false, devices: true);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void CreateNode_requests_round_trip()
    {
        var attributes = new AttributeSet(AttributeFields.All & ~AttributeFields.ExtendedAttributes & ~AttributeFields.FileAttributes, 0x1A4, 1, 2, 3, 4);
        foreach ((int type, ulong rdev) in new[] { (Posix.SIfifo, 0UL), (Posix.SIfsock, 0UL), (Posix.SIfchr, (1UL << 32) | 3), (Posix.SIfblk, (uint.MaxValue * 1UL << 32) | uint.MaxValue) })
        {
            AgentRequest request = AgentClient.NodeRequest("a/node", type, rdev, attributes);
            using var writer = new WireWriter();
            request.Write(writer);
            Assert.Equal(request, AgentRequest.Read(writer.Written));
        }
    }

    [Theory]
    [InlineData(0x8, 0UL, "a")]
    [InlineData(0x4, 0UL, "a")]
    [InlineData(0xA, 0UL, "a")]
    [InlineData(0x1, 1UL, "a")]
    [InlineData(0xC, 1UL << 32, "a")]
    public void A_CreateNode_of_another_type_or_a_fifo_with_a_number_is_a_violation(byte type, ulong rdev, string path)
    {
        using var writer = new WireWriter();
        writer.Byte((byte)RequestType.CreateNode).String(path).Byte(type).UInt(rdev >> 32).UInt(rdev & 0xFFFF_FFFF);
        AttributeSet.None.Write(writer);
        Assert.Equal(ErrorIds.ProtocolViolation, Assert.Throws<SyncException>(() => AgentRequest.Read(writer.Written)).ErrorId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../outside")]
    [InlineData("/etc/x")]
    public void A_CreateNode_of_the_root_or_outside_the_tree_is_refused(string path)
    {
        using var writer = new WireWriter();
        writer.Byte((byte)RequestType.CreateNode).String(path).Byte(1).UInt(0).UInt(0);
        AttributeSet.None.Write(writer);
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => AgentRequest.Read(writer.Written)).ErrorId);
    }

    [Fact]
    public void A_CreateNode_with_bytes_after_its_fields_is_a_violation()
    {
        using var writer = new WireWriter();
        AgentClient.NodeRequest("a", Posix.SIfifo, 0, AttributeSet.None).Write(writer);
        writer.UInt(7);
        Assert.Equal(ErrorIds.ProtocolViolation, Assert.Throws<SyncException>(() => AgentRequest.Read(writer.Written)).ErrorId);
    }

    [Fact]
    public void RemoveSource_requests_round_trip_with_and_without_a_node()
    {
        var time = new AttributeSet(AttributeFields.Time, 0, 0, 0, 1_600_000_000, 7);
        foreach ((int type, ulong rdev) in new[] { (0, 0UL), (Posix.SIfifo, 0UL), (Posix.SIfsock, 0UL), (Posix.SIfblk, (7UL << 32) | 42) })
        {
            var request = new AgentRequest(RequestType.RemoveSource, "a/item") { Length = type == 0 ? 5 : 0, Attributes = time, NodeType = type, DeviceNumber = rdev };
            using var writer = new WireWriter();
            request.Write(writer);
            Assert.Equal(request, AgentRequest.Read(writer.Written));
        }
    }

    [Theory]
    [InlineData(0x8, 0UL)]
    [InlineData(0x0, 0UL)]
    [InlineData(0x1, 1UL)]
    public void A_RemoveSource_naming_something_else_than_a_node_is_a_violation(byte type, ulong rdev)
    {
        using var writer = new WireWriter();
        writer.Byte((byte)RequestType.RemoveSource).String("a").UInt(0);
        new AttributeSet(AttributeFields.Time, 0, 0, 0, 1, 0).Write(writer);
        writer.Byte(type).UInt(rdev >> 32).UInt(rdev & 0xFFFF_FFFF);
        Assert.Equal(ErrorIds.ProtocolViolation, Assert.Throws<SyncException>(() => AgentRequest.Read(writer.Written)).ErrorId);
    }
}

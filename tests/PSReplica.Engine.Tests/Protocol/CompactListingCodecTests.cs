using CsCheck;
using PSReplica.Engine.Scanning;

namespace PSReplica.Engine.Tests.Protocol;

public sealed class CompactListingCodecTests
{
    private static readonly int[] s_types = [Posix.SIfreg, Posix.SIfdir, Posix.SIflnk, 0x1000];

    private static readonly Gen<StatInfo> s_stat =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 0xFFF], Gen.UInt[1, 4], Gen.UInt[0, 3], Gen.UInt[0, 3], Gen.ULong, Gen.Long[0, long.MaxValue])
            .Select(Gen.Long, Gen.UInt[0, 999_999_999], Gen.ULong[0, 3], (a, seconds, nanos, device) =>
            {
                (int type, int permissions, uint nlink, uint uid, uint gid, ulong inode, long size) = a;
                int mode = s_types[type] | permissions;
                return new StatInfo(mode, nlink, uid, gid, inode, mode >> 12 == 8 ? size : 0, seconds, nanos, device);
            });

    private static readonly Gen<List<ListingEntry>> s_entries =
        Gen.Select(Gen.String[Gen.Char["abé日x."], 1, 12], s_stat, Gen.Bool, Gen.UInt128).List[0, 60].Select(items =>
            items.Where(i => i.Item1 is not "." and not "..")
                .GroupBy(i => i.Item1, StringComparer.Ordinal).Select(g => g.First())
                .OrderBy(i => i.Item1, StringComparer.Ordinal)
                .Select(i => new ListingEntry(i.Item1, i.Item2, FileEntry.KindOf(i.Item2) == EntryKind.SymbolicLink ? "target/" + i.Item1 : null)
                {
                    Checksum = i.Item3 && FileEntry.KindOf(i.Item2) == EntryKind.File ? i.Item4 : null,
                })
                .ToList());

    [Fact]
    public void Random_entries_round_trip()
    {
        s_entries.Sample(entries =>
        {
            // A listing with checksums has one for every regular file.
            bool checksums = entries.Any(e => e.Checksum is not null);
            if (checksums)
            {
                entries = entries.Select(e => e.Kind == EntryKind.File && e.Checksum is null ? e with { Checksum = UInt128.MaxValue } : e).ToList();
            }

            List<ListingEntry> read = RoundTrip(entries, checksums);
            Assert.Equal(entries.Count, read.Count);
            for (int i = 0; i < entries.Count; i++)
            {
                ListingEntry sent = entries[i];
                ListingEntry got = read[i];
                Assert.Equal(sent.Name, got.Name);
                Assert.Equal(sent.LinkTarget, got.LinkTarget);
                Assert.Equal(checksums && sent.Kind == EntryKind.File ? sent.Checksum : null, got.Checksum);
                StatInfo expected = sent.Stat;
                if (!CompactListingCodec.SendsIdentity(sent))
                {
                    // Sent without its identity: one of its own, never a real device, and one link.
                    Assert.Equal(CompactListingCodec.NoDevice, got.Stat.Device);
                    expected = expected with { Device = got.Stat.Device, Inode = got.Stat.Inode };
                }

                Assert.Equal(expected, got.Stat);
            }
        }, iter: 300);
    }

    [Fact]
    public void Items_sent_without_identity_never_share_one()
    {
        var file = new StatInfo(Posix.SIfreg | 0x1A4, 1, 1000, 1000, 42, 10, 1_700_000_000, 5, 2049);
        List<ListingEntry> read = RoundTrip([new ListingEntry("a", file, null), new ListingEntry("b", file, null)], false);
        Assert.NotEqual(read[0].Stat.Inode, read[1].Stat.Inode);
        Assert.Equal(1u, read[0].Stat.Nlink);
    }

    [Fact]
    public void Hard_linked_files_and_directories_keep_their_identity()
    {
        var linked = new StatInfo(Posix.SIfreg | 0x1A4, 2, 1000, 1000, 42, 10, 1_700_000_000, 5, 2049);
        var directory = new StatInfo(Posix.SIfdir | 0x1ED, 2, 1000, 1000, 7, 0, 1_700_000_000, 5, 2049);
        List<ListingEntry> read = RoundTrip([new ListingEntry("a", linked, null), new ListingEntry("b", linked, null), new ListingEntry("d", directory, null)], false);
        Assert.Equal(linked, read[0].Stat);
        Assert.Equal(linked, read[1].Stat);
        Assert.Equal(directory, read[2].Stat);
    }

    [Fact]
    public void A_typical_tree_of_20000_files_takes_at_most_20_bytes_an_entry()
    {
        // 20,000 small files in 100 directories of 200, written within a few seconds, sizes up to 64 KiB.
        var random = new Random(7);
        int total = 0;
        int count = 0;
        long seconds = 1_764_000_000;
        ulong inode = 1_000_000;
        for (int d = 0; d < 100; d++)
        {
            var entries = new List<ListingEntry>();
            for (int f = 0; f < 200; f++)
            {
                seconds += random.Next(0, 2) == 0 ? 0 : 1;
                var stat = new StatInfo(Posix.SIfreg | 0x1A4, 1, 1000, 1000, inode++, random.Next(0, 65536), seconds,
                    (uint)random.Next(0, 1_000_000_000), 2049);
                entries.Add(new ListingEntry($"file{f:D5}.txt", stat, null));
            }

            using var writer = new WireWriter(1 << 16);
            var codec = new CompactListingCodec();
            foreach (ListingEntry entry in entries)
            {
                codec.Write(writer, entry);
            }

            total += writer.Length;
            count += entries.Count;
        }

        Assert.Equal(20_000, count);
        Assert.True(total <= 20 * count, $"{(double)total / count:F2} bytes an entry");
    }

    [Fact]
    public void A_prefix_longer_than_the_previous_name_is_a_violation()
    {
        using var writer = new WireWriter();
        writer.UInt(0).UInt(3).UInt(1).Byte((byte)'a');
        byte[] bytes = writer.Written.ToArray();
        var codec = new CompactListingCodec();
        SyncException error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(bytes);
            codec.Read(ref reader, false);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void A_name_with_a_slash_is_refused()
    {
        var stat = new StatInfo(Posix.SIfreg | 0x1A4, 1, 0, 0, 1, 0, 0, 0, 1);
        using var writer = new WireWriter();
        new CompactListingCodec().Write(writer, new ListingEntry("a/b", stat, null));
        byte[] bytes = writer.Written.ToArray();
        SyncException error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(bytes);
            new CompactListingCodec().Read(ref reader, false);
        });
        Assert.Equal(ErrorIds.UnsafePath, error.ErrorId);
    }

    private static List<ListingEntry> RoundTrip(List<ListingEntry> entries, bool checksums)
    {
        using var writer = new WireWriter();
        var codec = new CompactListingCodec();
        foreach (ListingEntry entry in entries)
        {
            codec.Write(writer, entry);
        }

        byte[] bytes = writer.Written.ToArray();
        var reader = new WireReader(bytes);
        var decoder = new CompactListingCodec();
        var read = new List<ListingEntry>();
        for (int i = 0; i < entries.Count; i++)
        {
            read.Add(decoder.Read(ref reader, checksums));
        }

        reader.ExpectEnd();
        return read;
    }
}

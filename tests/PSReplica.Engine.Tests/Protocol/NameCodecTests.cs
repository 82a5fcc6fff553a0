using System.Text;
using CsCheck;

namespace PSReplica.Engine.Tests.Protocol;

/// <summary>Names as bytes (issue 18, D3/D4): <see cref="NameCodec"/> maps any bytes to a string and back exactly; the
/// protocol carries them as the bytes they are; <see cref="SyncNames"/>' shown form (\#ooo) is valid Unicode and reads
/// back to the same name.</summary>
public sealed class NameCodecTests
{
    private static readonly Gen<byte[]> s_names = Gen.OneOf(
        Gen.Byte.Array[0, 40],
        Gen.Byte[(byte)'\\', (byte)'\\'].Select(Gen.Byte[(byte)'#', (byte)'#'], Gen.Byte[0x80, 0xFF], Gen.Byte[(byte)'0', (byte)'9'],
            (a, b, c, d) => new[] { a, b, c, d }).Array[1, 8].Select(parts => parts.SelectMany(p => p).ToArray()),
        Gen.String[Gen.Char["a\\#1é日\uD83D\uDE00"], 0, 20].Select(Encoding.UTF8.GetBytes));

    [Fact]
    public void Any_bytes_round_trip_through_the_codec()
    {
        s_names.Sample(bytes =>
        {
            string name = NameCodec.Decode(bytes);
            Assert.Equal(bytes, NameCodec.GetBytes(name));
            Assert.Equal(bytes.Length, NameCodec.GetByteCount(name));
            Assert.Equal(Utf8IsValid(bytes), !NameCodec.HasEscapedBytes(name));
        }, iter: 2000);
    }

    [Fact]
    public void A_byte_that_is_not_utf8_is_one_lone_surrogate_and_utf8_is_itself()
    {
        Assert.Equal("a\uDCFFb", NameCodec.Decode([(byte)'a', 0xFF, (byte)'b']));
        Assert.Equal("\uDCED\uDCA0\uDC80", NameCodec.Decode([0xED, 0xA0, 0x80])); // an encoded surrogate is not UTF-8
        Assert.Equal("a\uFFFD", NameCodec.Decode([(byte)'a', 0xEF, 0xBF, 0xBD]));
        Assert.Equal("\U00010080", NameCodec.Decode(Encoding.UTF8.GetBytes("\U00010080"))); // a pair whose low half is DC80
        Assert.False(NameCodec.HasEscapedBytes("\U00010080"));
    }

    [Fact]
    public void The_shown_form_is_valid_unicode_and_parses_back_to_the_same_name()
    {
        s_names.Sample(bytes =>
        {
            string name = NameCodec.Decode(bytes);
            string shown = SyncNames.Show(name);
            Assert.False(NameCodec.HasEscapedBytes(shown));
            Assert.True(Utf8IsValid(Encoding.UTF8.GetBytes(shown)));
            Assert.Equal(name, SyncNames.Parse(shown));
        }, iter: 2000);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', 0xFF }, "a\\#377")]
    [InlineData(new byte[] { (byte)'a', (byte)'\\', (byte)'#', (byte)'b' }, "a\\#134#b")]
    [InlineData(new byte[] { (byte)'a', (byte)'\\', (byte)'b' }, "a\\b")]
    [InlineData(new byte[] { (byte)'\\', 0x80 }, "\\\\#200")]
    [InlineData(new byte[] { 0xC3, 0xA9 }, "é")]
    public void Shown_forms(byte[] bytes, string shown)
    {
        Assert.Equal(shown, SyncNames.Show(NameCodec.Decode(bytes)));
        Assert.Equal(bytes, NameCodec.GetBytes(SyncNames.Parse(shown)));
    }

    [Fact]
    public void A_shown_form_that_spells_utf8_byte_by_byte_is_that_character_as_a_listing_gives_it()
    {
        Assert.Equal("é", SyncNames.Parse("\\#303\\#251"));
        Assert.Equal("a\\#", SyncNames.Parse("a\\#"));
        Assert.Equal("\\#400", SyncNames.Parse("\\#400"));
    }

    [Fact]
    public void A_listing_carries_names_that_are_not_utf8_as_their_bytes()
    {
        var stat = new StatInfo(Posix.SIfreg | 0x1A4, 1, 0, 0, 1, 0, 0, 0, 1);
        var link = new StatInfo(Posix.SIflnk | 0x1FF, 1, 0, 0, 2, 0, 0, 0, 1);
        string raw = NameCodec.Decode([(byte)'a', 0xFF]);
        string lookAlike = NameCodec.Decode([(byte)'a', 0xEF, 0xBF, 0xBD]);
        string target = NameCodec.Decode([(byte)'t', 0xFE]);
        var entries = new List<ListingEntry> { new(raw, stat, null), new(lookAlike, stat, null), new("l" + raw, link, target) };
        entries.Sort((x, y) => string.CompareOrdinal(x.Name, y.Name));

        using var writer = new WireWriter();
        var codec = new CompactListingCodec();
        foreach (ListingEntry entry in entries)
        {
            codec.Write(writer, entry);
        }

        byte[] bytes = writer.Written.ToArray();
        Assert.True(bytes.AsSpan().IndexOf((ReadOnlySpan<byte>)[(byte)'a', 0xFF]) >= 0, "the raw byte is on the wire");
        var reader = new WireReader(bytes);
        var decoder = new CompactListingCodec();
        foreach (ListingEntry entry in entries)
        {
            ListingEntry got = decoder.Read(ref reader, false);
            Assert.Equal(entry.Name, got.Name);
            Assert.Equal(entry.LinkTarget, got.LinkTarget);
        }
    }

    [Fact]
    public void A_wire_string_keeps_its_bytes_and_a_peer_name_is_still_checked()
    {
        using var writer = new WireWriter();
        writer.String(NameCodec.Decode([(byte)'d', 0x80, (byte)'/', (byte)'f', 0xFF]));
        var reader = new WireReader(writer.Written.ToArray());
        string path = reader.String(1000);
        Assert.Equal([(byte)'d', 0x80, (byte)'/', (byte)'f', 0xFF], NameCodec.GetBytes(path));
        Assert.Equal(path, PeerNames.CheckPath(path, allowRoot: false));
        Assert.Equal(ErrorIds.UnsafePath, Assert.Throws<SyncException>(() => PeerNames.CheckPath(NameCodec.Decode([0xFF, (byte)'/', (byte)'.', (byte)'.']), false)).ErrorId);
    }

    private static bool Utf8IsValid(byte[] bytes) => System.Text.Unicode.Utf8.IsValid(bytes);
}

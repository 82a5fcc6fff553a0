using CsCheck;

namespace PSReplica.Engine.Tests.Protocol;

public sealed class WireCodecTests
{
    [Fact]
    public void Numbers_and_strings_round_trip()
    {
        Gen.Select(Gen.ULong, Gen.Long, Gen.String).Sample((unsigned, signed, text) =>
        {
            using var writer = new WireWriter(4);
            writer.UInt(unsigned).Int(signed).String(text);
            byte[] bytes = writer.Written.ToArray();
            var reader = new WireReader(bytes);
            Assert.Equal(unsigned, reader.UInt());
            Assert.Equal(signed, reader.Signed());
            // Lone surrogates do not survive UTF-8; everything else must.
            string expected = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text));
            Assert.Equal(expected, reader.String(1 << 20));
            reader.ExpectEnd();
        }, iter: 500);
    }

    [Fact]
    public void A_count_that_would_allocate_gigabytes_is_refused()
    {
        using var writer = new WireWriter();
        writer.UInt(int.MaxValue).Byte(1);
        var error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(writer.Written);
            reader.Count(int.MaxValue, ListingEntry.MinEncodedLength);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void A_string_longer_than_the_message_is_refused()
    {
        using var writer = new WireWriter();
        writer.UInt(1000).Byte((byte)'x');
        var error = Assert.Throws<SyncException>(() =>
        {
            var reader = new WireReader(writer.Written);
            reader.String(4096);
        });
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void Listing_entries_round_trip()
    {
        var gen = Gen.Select(Gen.Int[0, 3], Gen.Int[0, 0xFFF], Gen.Long[0, long.MaxValue], Gen.Long, Gen.UInt[0, 999_999_999], Gen.UInt, Gen.UInt)
            .Select(Gen.ULong, Gen.ULong, (a, dev, ino) => (a, dev, ino));
        gen.Sample(t =>
        {
            ((int kind, int perm, long size, long sec, uint ns, uint uid, uint gid), ulong dev, ulong ino) = t;
            int type = kind switch { 0 => Posix.SIfreg, 1 => Posix.SIfdir, 2 => Posix.SIflnk, _ => 0x1000 };
            var stat = new StatInfo(type | perm, 3, uid, gid, ino, type == Posix.SIfreg ? size : 0, sec, ns, dev);
            var entry = new ListingEntry("name-" + kind, stat, type == Posix.SIflnk ? "../target" : null);
            using var writer = new WireWriter();
            entry.Write(writer);
            var reader = new WireReader(writer.Written);
            ListingEntry back = ListingEntry.Read(ref reader);
            reader.ExpectEnd();
            Assert.Equal(entry, back);
        }, iter: 300);
    }

    [Fact]
    public void Requests_round_trip()
    {
        var attributes = new AttributeSet(AttributeFields.All, 0x1ED, 1000, 1001, -5, 999_999_999);
        AgentRequest[] requests =
        [
            new(RequestType.List, "") { Flag = true },
            new(RequestType.ReadFile, "a/b"),
            new(RequestType.ComputeDelta, "a/b"),
            new(RequestType.BuildSignature, "a/b") { BlockLength = 700 },
            new(RequestType.WriteFile, "a/b") { Length = 1L << 40, Attributes = attributes },
            new(RequestType.ApplyDelta, "a/b") { Other = "a/c", BlockLength = 2048, Length = 5, Attributes = attributes },
            new(RequestType.CreateDirectory, "d") { Attributes = new AttributeSet(AttributeFields.Mode, 0x1C0, 0, 0, 0, 0) },
            new(RequestType.CreateSymbolicLink, "l") { Other = "/anywhere/at/all", Attributes = attributes },
            new(RequestType.SetAttributes, "") { Attributes = attributes },
            new(RequestType.Delete, "x") { Flag = true },
        ];
        foreach (AgentRequest request in requests)
        {
            using var writer = new WireWriter();
            request.Write(writer);
            Assert.Equal(request, AgentRequest.Read(writer.Written));
        }
    }

    [Fact]
    public void MoveWithin_requests_round_trip()
    {
        var request = new AgentRequest(RequestType.MoveWithin, "a/old") { Other = "b/new" };
        using var writer = new WireWriter();
        request.Write(writer);
        Assert.Equal(request, AgentRequest.Read(writer.Written));
    }

    [Fact]
    public void A_MoveWithin_request_with_fields_it_does_not_have_is_a_violation()
    {
        using var writer = new WireWriter();
        new AgentRequest(RequestType.MoveWithin, "a/old") { Other = "b/new" }.Write(writer);
        writer.UInt(7);
        Assert.Equal(ErrorIds.ProtocolViolation, Assert.Throws<SyncException>(() => AgentRequest.Read(writer.Written)).ErrorId);
    }

    [Fact]
    public void An_unknown_request_type_is_a_violation()
    {
        var error = Assert.Throws<SyncException>(() => AgentRequest.Read([0x7F, 0]));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }

    [Fact]
    public void Signatures_round_trip()
    {
        Gen.Select(Gen.Byte.Array[0, 5000], Gen.Int[1, 600]).Sample((data, block) =>
        {
            Signature signature = SignatureBuilder.Build(new MemoryStream(data), data.Length, block, default);
            using var wire = new MemoryStream();
            SignatureCodec.Write(wire, signature);
            wire.Position = 0;
            Signature back = SignatureCodec.Read(wire);
            Assert.Equal(signature.FileLength, back.FileLength);
            Assert.Equal(signature.BlockLength, back.BlockLength);
            Assert.Equal(signature.Weak, back.Weak);
            Assert.Equal(signature.Strong, back.Strong);
        }, iter: 100);
    }

    [Theory]
    [InlineData(1L << 40, 1, 16, 1L << 40)] // more blocks than the limit
    [InlineData(1000, 100, 16, 11)] // a count that does not match the length
    [InlineData(1000, 0, 16, 0)] // no block length
    [InlineData(1000, 100, 17, 10)] // a strong checksum longer than XXH3-128
    [InlineData(1000, 100, 16, 10)] // a header whose entries never come
    public void A_forged_signature_header_is_refused(long fileLength, int block, int strong, long count)
    {
        using var writer = new WireWriter();
        writer.UInt((ulong)fileLength).UInt((uint)block).UInt((uint)strong).UInt((ulong)count);
        var error = Assert.Throws<SyncException>(() => SignatureCodec.Read(new MemoryStream(writer.Written.ToArray())));
        Assert.Equal(ErrorIds.ProtocolViolation, error.ErrorId);
    }
}

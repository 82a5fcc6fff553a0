using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PSReplica.Ssh;

/// <summary>A public host key as SSH sends it: the wire blob, its type and its fingerprint.</summary>
public sealed class HostKey : IEquatable<HostKey>
{
    private readonly byte[] _blob;

    public HostKey(byte[] blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        _blob = (byte[])blob.Clone();
        KeyType = ReadType(_blob) ?? throw new FormatException("The key blob does not start with its type name.");
    }

    /// <summary>The type inside the blob (<c>ssh-ed25519</c>, <c>ecdsa-sha2-nistp256</c>, <c>ssh-rsa</c>).</summary>
    public string KeyType { get; }

    /// <summary>OpenSSH's fingerprint form: <c>SHA256:</c> and the unpadded base64 of the blob's SHA-256.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(_blob)).TrimEnd('=');

    public string Base64 => Convert.ToBase64String(_blob);

    public ReadOnlySpan<byte> Blob => _blob;

    /// <summary>Parses the base64 key field of a known_hosts or .pub line.</summary>
    public static HostKey? TryParseBase64(string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            return null;
        }

        return ReadType(blob) is null ? null : new HostKey(blob);
    }

    public bool Equals(HostKey? other) => other is not null && CryptographicOperations.FixedTimeEquals(_blob, other._blob);

    public override bool Equals(object? obj) => Equals(obj as HostKey);

    public override int GetHashCode() => BinaryPrimitives.ReadInt32LittleEndian(SHA256.HashData(_blob));

    public override string ToString() => KeyType + " " + Fingerprint;

    private static string? ReadType(byte[] blob)
    {
        if (blob.Length < 4)
        {
            return null;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (length == 0 || length > 64 || length > (uint)(blob.Length - 4))
        {
            return null;
        }

        foreach (byte b in blob.AsSpan(4, (int)length))
        {
            if (b is < 0x21 or > 0x7e)
            {
                return null;
            }
        }

        return Encoding.ASCII.GetString(blob, 4, (int)length);
    }
}

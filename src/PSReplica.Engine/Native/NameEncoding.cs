using System.Text;

namespace PSReplica.Engine.Native;

/// <summary><see cref="NameCodec"/> as an <see cref="Encoding"/>, for libraries that take one for their file names: the
/// SFTP fallback gives it to SSH.NET (ConnectionInfo.Encoding), so that SFTP names travel as their bytes too. Valid UTF-8
/// reads and writes as UTF-8; only bytes that are not UTF-8 differ (kept exactly instead of replaced).</summary>
internal sealed class NameEncoding : Encoding
{
    public static readonly NameEncoding Instance = new();

    private NameEncoding()
        : base(65001)
    {
    }

    public override string EncodingName => "UTF-8 (names as bytes)";

    public override int GetByteCount(char[] chars, int index, int count) => NameCodec.GetByteCount(chars.AsSpan(index, count));

    public override int GetByteCount(string s) => NameCodec.GetByteCount(s);

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
        NameCodec.GetBytes(chars.AsSpan(charIndex, charCount), bytes.AsSpan(byteIndex));

    public override byte[] GetBytes(string s) => NameCodec.GetBytes(s);

    public override int GetCharCount(byte[] bytes, int index, int count) => NameCodec.Decode(bytes.AsSpan(index, count)).Length;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        string text = NameCodec.Decode(bytes.AsSpan(byteIndex, byteCount));
        text.CopyTo(0, chars, charIndex, text.Length);
        return text.Length;
    }

    public override string GetString(byte[] bytes, int index, int count) => NameCodec.Decode(bytes.AsSpan(index, count));

    public override int GetMaxByteCount(int charCount) => (charCount + 1) * 3;

    public override int GetMaxCharCount(int byteCount) => byteCount + 1;

    public override byte[] GetPreamble() => [];
}

using PSReplica.Engine.Endpoints;

namespace PSReplica.Engine.Tests.Planning;

/// <summary>The names Windows forbids (its naming conventions): the nine characters and control characters, a trailing dot
/// or space, and the device names alone or with an extension, in any case, COM and LPT also with superscript digits.</summary>
public sealed class WindowsNamesTests
{
    [Theory]
    [InlineData("ok.txt")]
    [InlineData("...x")]
    [InlineData(".hidden")]
    [InlineData("a.b.c")]
    [InlineData("caf\u00e9 \u65e5\u672c\u8a9e.txt")]
    [InlineData("\U0001F600")]
    [InlineData("CONIN$")]
    [InlineData("CONOUT$")]
    [InlineData("CONSOLE")]
    [InlineData("NULL.txt")]
    [InlineData("xcon")]
    [InlineData("COM0")]
    [InlineData("LPT0.txt")]
    [InlineData("COM10")]
    [InlineData("COM\u2074")]
    [InlineData("COMX")]
    [InlineData(" leading space")]
    [InlineData("a\u007F")]
    [InlineData("full\uFF1Awidth")]
    public void Allows(string name) => Assert.Null(WindowsNames.Reason(name));

    [Theory]
    [InlineData("a<b", "it holds the character '<'")]
    [InlineData("a>b", "it holds the character '>'")]
    [InlineData("a:b", "it holds the character ':'")]
    [InlineData("a\"b", "it holds the character '\"'")]
    [InlineData("a\\b", "it holds the character '\\'")]
    [InlineData("a|b", "it holds the character '|'")]
    [InlineData("a?b", "it holds the character '?'")]
    [InlineData("a*b", "it holds the character '*'")]
    [InlineData("tab\t", "it holds the control character U+0009")]
    [InlineData("\u0001", "it holds the control character U+0001")]
    [InlineData("x\u001Fy", "it holds the control character U+001F")]
    [InlineData("a.", "it ends in a dot")]
    [InlineData("a ", "it ends in a space")]
    [InlineData("a. ", "it ends in a space")]
    [InlineData("CON", "CON is a device name")]
    [InlineData("con.txt", "CON is a device name")]
    [InlineData("Prn", "PRN is a device name")]
    [InlineData("aux.c", "AUX is a device name")]
    [InlineData("nul.tar.gz", "NUL is a device name")]
    [InlineData("Com1.tar.gz", "COM1 is a device name")]
    [InlineData("COM9", "COM9 is a device name")]
    [InlineData("COM\u00B9", "COM\u00B9 is a device name")]
    [InlineData("lpt\u00B2.log", "LPT\u00B2 is a device name")]
    [InlineData("LPT\u00B3", "LPT\u00B3 is a device name")]
    [InlineData("LPT9.x", "LPT9 is a device name")]
    public void Forbids(string name, string reason) => Assert.Equal(reason, WindowsNames.Reason(name));

    [Fact]
    public void The_traits_of_fat_exfat_and_ntfs_follow_windows_names_and_others_do_not()
    {
        foreach (string type in new[] { "vfat", "msdos", "fuse.fusefat", "exfat", "fuseblk.exfat", "ntfs3", "fuseblk.ntfs" })
        {
            FileSystemTraits traits = FileSystemTraits.Known(type)!;
            Assert.True(traits.WindowsNamesOnly, type);
            Assert.False(traits.HoldsEverything, type);
            Assert.EndsWith(", no names Windows forbids", traits.Describe(), StringComparison.Ordinal);
        }

        foreach (string type in new[] { "ext4", "xfs", "btrfs", "tmpfs", "hfsplus", "iso9660" })
        {
            Assert.False(FileSystemTraits.Known(type)!.WindowsNamesOnly, type);
        }

        Assert.False(FileSystemTraits.Full.WindowsNamesOnly);
        Assert.True(FileSystemTraits.Full.HoldsEverything);
        Assert.False((FileSystemTraits.Known("ext4")! with { WindowsNamesOnly = true }).HoldsEverything);
    }
}

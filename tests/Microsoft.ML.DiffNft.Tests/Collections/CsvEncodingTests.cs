using System.Text;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Collections.Formats;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Collections;

/// <summary>
/// CSV collection files are UTF-8 (BOM tolerated) or UTF-16 after a byte-order mark; bytes that are not UTF-8 are an error
/// naming the file, line and byte — they used to load as values with U+FFFD in them.
/// </summary>
public sealed class CsvEncodingTests
{
    private const string Text = "token_id,Head\n1,cap\n2,beanie é\n";

    [Fact]
    public void UnicodeTextDecodesTheSameWithOrWithoutAByteOrderMark()
    {
        Assert.Equal(Text, CsvReader.Decode(Encoding.UTF8.GetBytes(Text), "t.csv"));
        Assert.Equal(Text, CsvReader.Decode([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Text)], "t.csv").TrimStart('\uFEFF'));
        Assert.Equal(Text, CsvReader.Decode([.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(Text)], "t.csv"));
        Assert.Equal(Text, CsvReader.Decode([.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(Text)], "t.csv"));
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })]          // a lead byte without its continuation
    [InlineData(new byte[] { 0xFF })]                // never valid in UTF-8
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]    // an encoded surrogate
    public void BytesThatAreNotUtf8AreAnErrorNamingTheFileLineAndByte(byte[] bad)
    {
        var bytes = Encoding.UTF8.GetBytes("token_id,Head\n1,cap\n2,bea").Concat(bad).Concat(Encoding.UTF8.GetBytes("nie\n")).ToArray();
        string path = Path.Combine(Directory.CreateTempSubdirectory("diffnft-csv-").FullName, "traits.csv");
        File.WriteAllBytes(path, bytes);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => CsvReader.Open(path));
            Assert.Equal($"Collection file '{path}', line 3: byte 25 (0x{bad[0]:X2}) is not valid UTF-8; save the file as UTF-8.", ex.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}

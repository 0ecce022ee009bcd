using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// A write that fails half-way (a full disk, a folder that turned read-only) leaves no temporary file and the earlier file
/// untouched, and its error names the file being written. The faults are simulated with <see cref="IoFaults"/>: a real
/// full disk needs a tiny file system mounted, which a test run without root cannot do.
/// </summary>
public sealed class AtomicFileFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("diffnft-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Writers => new() { "bytes", "text", "stream" };

    [Theory]
    [MemberData(nameof(Writers))]
    public void AFullDiskLeavesNoTemporaryFileAndTheOldFileAsItWas(string writer)
    {
        string path = Path.Combine(_dir, "model.bin");
        File.WriteAllText(path, "old");
        IOException ex;
        using (IoFaults.Inject(p => p.EndsWith(".tmp", StringComparison.Ordinal) ? IoFaults.DiskFull(p) : null))
            ex = Assert.Throws<IOException>(() => Write(writer, path));
        Assert.Equal($"Cannot write '{path}': No space left on device.", ex.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["model.bin"], Directory.EnumerateFiles(_dir).Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void AReadOnlyFolderIsAnErrorNamingTheFile(string writer)
    {
        string path = Path.Combine(_dir, "sub", "out.json");
        UnauthorizedAccessException ex;
        using (IoFaults.Inject(p => new UnauthorizedAccessException($"Access to the path '{p}' is denied.")))
            ex = Assert.Throws<UnauthorizedAccessException>(() => Write(writer, path));
        Assert.StartsWith($"Cannot write '{path}': permission denied", ex.Message);
        Assert.Empty(Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void AFailureInTheWritersOwnCodeKeepsItsExceptionAndRemovesTheTemporaryFile()
    {
        string path = Path.Combine(_dir, "x.zip");
        var ex = Assert.Throws<InvalidDataException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidDataException("bad entry"); }));
        Assert.Equal("bad entry", ex.Message);
        Assert.Empty(Directory.EnumerateFiles(_dir));
    }

    [Fact]
    public void AFullDiskFoundByTheProbeNamesTheFolderAndLeavesNoProbeFile()
    {
        string folder = Path.Combine(_dir, "out");
        IOException ex;
        using (IoFaults.Inject(p => IoFaults.DiskFull(p)))
            ex = Assert.Throws<IOException>(() => OutputProbe.WritableFolder(folder));
        Assert.Equal($"Output folder '{folder}' cannot be written: No space left on device.", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }

    private static void Write(string writer, string path)
    {
        switch (writer)
        {
            case "bytes": AtomicFile.WriteAllBytes(path, new byte[] { 1, 2, 3 }); break;
            case "text": AtomicFile.WriteAllText(path, "new"); break;
            default: AtomicFile.Write(path, s => s.Write(new byte[] { 1, 2, 3 })); break;
        }
    }
}

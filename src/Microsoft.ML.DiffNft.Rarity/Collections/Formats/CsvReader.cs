using System.Text;

namespace Microsoft.ML.DiffNft.Collections.Formats;

/// <summary>
/// An RFC 4180 CSV reader: comma-separated fields, double-quoted fields that may hold commas, quotes (doubled) and
/// line breaks, CRLF or LF line ends. Blank lines are skipped. Each record reports the 1-based line it starts on.
/// </summary>
internal sealed class CsvReader
{
    private readonly string _text;
    private readonly string _path;
    private int _pos;
    private int _line = 1;

    /// <summary>
    /// Reads a whole file: UTF-8 (BOM tolerated), or UTF-16 after its byte-order mark. Bytes that are not UTF-8 are an
    /// error naming the file, the line and the byte, never values quietly read with U+FFFD in them.
    /// </summary>
    public static CsvReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Collection file '{path}' does not exist.", path);
        return new CsvReader(Decode(File.ReadAllBytes(path), path), path);
    }

    /// <summary>The text of a CSV file's bytes (see <see cref="Open"/>).</summary>
    internal static string Decode(byte[] bytes, string path)
    {
        if (bytes.Length >= 2 && (bytes[0], bytes[1]) is (0xFF, 0xFE) or (0xFE, 0xFF))
            return new StreamReader(new MemoryStream(bytes), detectEncodingFromByteOrderMarks: true).ReadToEnd();
        var chars = new char[bytes.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            int line = 1 + bytes.AsSpan(0, read).Count((byte)'\n');
            throw new InvalidDataException(
                $"Collection file '{path}', line {line}: byte {read} (0x{bytes[read]:X2}) is not valid UTF-8; save the file as UTF-8.");
        }
        return new string(chars, 0, written);
    }

    /// <summary>Reads CSV text; <paramref name="path"/> names it in errors.</summary>
    public CsvReader(string text, string path)
    {
        _text = text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        _path = path;
    }

    /// <summary>The file name used in errors.</summary>
    public string Path => _path;

    /// <summary>Reads the next record into <paramref name="fields"/>; false at the end of the text.</summary>
    /// <param name="fields">Cleared, then filled with the record's fields.</param>
    /// <param name="line">The 1-based line the record starts on.</param>
    public bool TryReadRecord(List<string> fields, out int line)
    {
        fields.Clear();
        // Skip blank lines (a trailing newline at the end of the file is the common case).
        while (_pos < _text.Length && (_text[_pos] == '\n' || _text[_pos] == '\r'))
            ConsumeLineBreak();
        line = _line;
        if (_pos >= _text.Length) return false;
        while (true)
        {
            fields.Add(_pos < _text.Length && _text[_pos] == '"' ? ReadQuoted(fields.Count) : ReadPlain());
            if (_pos >= _text.Length) return true;
            char c = _text[_pos];
            if (c == ',') { _pos++; continue; }
            ConsumeLineBreak(); // the only other way ReadPlain/ReadQuoted stop
            return true;
        }
    }

    private string ReadPlain()
    {
        int start = _pos;
        while (_pos < _text.Length && _text[_pos] is not (',' or '\n' or '\r')) _pos++;
        return _text[start.._pos];
    }

    private string ReadQuoted(int fieldIndex)
    {
        int startLine = _line;
        _pos++; // opening quote
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
                throw new InvalidDataException(
                    $"{new SourceLocation(_path, startLine)}: field {fieldIndex + 1} opens a quote that is never closed (expected a closing '\"').");
            char c = _text[_pos];
            if (c == '"')
            {
                if (_pos + 1 < _text.Length && _text[_pos + 1] == '"') { sb.Append('"'); _pos += 2; continue; }
                _pos++;
                break;
            }
            if (c == '\n') _line++;
            else if (c == '\r' && !(_pos + 1 < _text.Length && _text[_pos + 1] == '\n')) _line++;
            sb.Append(c);
            _pos++;
        }
        if (_pos < _text.Length && _text[_pos] is not (',' or '\n' or '\r'))
            throw new InvalidDataException(
                $"{new SourceLocation(_path, _line)}: field {fieldIndex + 1} has {FormatErrors.Quote(_text[_pos].ToString())} after its closing quote (expected ',' or the end of the line; write a quote inside a quoted field as \"\").");
        return sb.ToString();
    }

    private void ConsumeLineBreak()
    {
        if (_text[_pos] == '\r' && _pos + 1 < _text.Length && _text[_pos + 1] == '\n') _pos += 2;
        else _pos++;
        _line++;
    }

    /// <summary>Reads the header record (names kept as written; <see cref="CsvColumns.Find"/> ignores surrounding spaces).</summary>
    public List<string> ReadHeader()
    {
        var header = new List<string>();
        if (!TryReadRecord(header, out _))
            throw new InvalidDataException($"'{_path}' is empty: expected a CSV header line.");
        return header;
    }

    /// <summary>Throws unless a record has <paramref name="expected"/> fields.</summary>
    public void CheckFieldCount(List<string> fields, int expected, int line)
    {
        if (fields.Count != expected)
            throw new InvalidDataException(
                $"{new SourceLocation(_path, line)}: expected {expected} fields as in the header, found {fields.Count} (quote fields that contain commas).");
    }
}

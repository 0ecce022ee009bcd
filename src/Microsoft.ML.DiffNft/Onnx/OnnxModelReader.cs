using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Reads an ONNX model file (protobuf <c>ModelProto</c>) into <see cref="OnnxModel"/>: the graph's nodes, attributes,
/// float initializers and input/output shapes. Field numbers follow onnx.proto (ONNX IR version 3 and later).
/// Data kinds other than float32 initializers, sub-graphs and external data are rejected with a clear message.
/// </summary>
internal static class OnnxModelReader
{
    /// <summary>Reads a model file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model this reader understands.</exception>
    public static OnnxModel Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model file '{path}' does not exist.", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a model from bytes; <paramref name="source"/> names it in error messages.</summary>
    public static OnnxModel Read(ReadOnlyMemory<byte> bytes, string source)
    {
        var r = new ProtobufReader(bytes, source);
        long ir = 0;
        string producer = "", producerVersion = "";
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        OnnxGraph? graph = null;
        while (r.TryReadKey(out int field, out var wt))
        {
            switch (field)
            {
                case OnnxProto.Model.IrVersion: r.Expect(wt, WireType.Varint, "ModelProto.ir_version"); ir = r.ReadInt64(); break;
                case OnnxProto.Model.ProducerName: r.Expect(wt, WireType.LengthDelimited, "ModelProto.producer_name"); producer = r.ReadString(); break;
                case OnnxProto.Model.ProducerVersion: r.Expect(wt, WireType.LengthDelimited, "ModelProto.producer_version"); producerVersion = r.ReadString(); break;
                case OnnxProto.Model.Graph: r.Expect(wt, WireType.LengthDelimited, "ModelProto.graph"); graph = ReadGraph(r.ReadMessage(), source); break;
                case OnnxProto.Model.OpsetImport:
                    r.Expect(wt, WireType.LengthDelimited, "ModelProto.opset_import");
                    var (domain, version) = ReadOpset(r.ReadMessage());
                    opsets[domain] = version;
                    break;
                default: r.Skip(wt); break;
            }
        }
        if (graph is null) throw new InvalidDataException($"'{source}' is not an ONNX model: it has no graph (ModelProto field 7).");
        if (ir <= 0) throw new InvalidDataException($"'{source}' is not an ONNX model: ModelProto.ir_version is missing or {ir}.");
        return new OnnxModel(ir, producer, producerVersion, opsets, graph);
    }

    private static (string Domain, long Version) ReadOpset(ProtobufReader r)
    {
        string domain = "";
        long version = 0;
        while (r.TryReadKey(out int field, out var wt))
        {
            if (field == OnnxProto.Opset.Domain && wt == WireType.LengthDelimited) domain = r.ReadString();
            else if (field == OnnxProto.Opset.Version && wt == WireType.Varint) version = r.ReadInt64();
            else r.Skip(wt);
        }
        return (domain, version);
    }

    private static OnnxGraph ReadGraph(ProtobufReader r, string source)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        while (r.TryReadKey(out int field, out var wt))
        {
            switch (field)
            {
                case OnnxProto.Graph.Node: r.Expect(wt, WireType.LengthDelimited, "GraphProto.node"); nodes.Add(ReadNode(r.ReadMessage(), source)); break;
                case OnnxProto.Graph.Name: r.Expect(wt, WireType.LengthDelimited, "GraphProto.name"); name = r.ReadString(); break;
                case OnnxProto.Graph.Initializer:
                    r.Expect(wt, WireType.LengthDelimited, "GraphProto.initializer");
                    int at = r.Offset;
                    var tensor = ReadTensor(r.ReadMessage(), source);
                    if (tensor.Name.Length == 0)
                        throw new InvalidDataException($"'{source}': the initializer at byte {at} has no name.");
                    if (!initializers.TryAdd(tensor.Name, tensor))
                        throw new InvalidDataException($"'{source}': initializer '{tensor.Name}' appears twice.");
                    break;
                case OnnxProto.Graph.Input: r.Expect(wt, WireType.LengthDelimited, "GraphProto.input"); inputs.Add(ReadValueInfo(r.ReadMessage())); break;
                case OnnxProto.Graph.Output: r.Expect(wt, WireType.LengthDelimited, "GraphProto.output"); outputs.Add(ReadValueInfo(r.ReadMessage())); break;
                default: r.Skip(wt); break;
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(ProtobufReader r, string source)
    {
        int start = r.Offset;
        string name = "", op = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        while (r.TryReadKey(out int field, out var wt))
        {
            switch (field)
            {
                case OnnxProto.Node.Input: r.Expect(wt, WireType.LengthDelimited, "NodeProto.input"); inputs.Add(r.ReadString()); break;
                case OnnxProto.Node.Output: r.Expect(wt, WireType.LengthDelimited, "NodeProto.output"); outputs.Add(r.ReadString()); break;
                case OnnxProto.Node.Name: r.Expect(wt, WireType.LengthDelimited, "NodeProto.name"); name = r.ReadString(); break;
                case OnnxProto.Node.OpType: r.Expect(wt, WireType.LengthDelimited, "NodeProto.op_type"); op = r.ReadString(); break;
                case OnnxProto.Node.Attribute:
                    r.Expect(wt, WireType.LengthDelimited, "NodeProto.attribute");
                    var a = ReadAttribute(r.ReadMessage(), source);
                    if (!attributes.TryAdd(a.Name, a))
                        throw new InvalidDataException($"'{source}': node '{name}' at byte {start} has attribute '{a.Name}' twice.");
                    break;
                case OnnxProto.Node.Domain: r.Expect(wt, WireType.LengthDelimited, "NodeProto.domain"); domain = r.ReadString(); break;
                default: r.Skip(wt); break;
            }
        }
        if (op.Length == 0) throw new InvalidDataException($"'{source}': the node at byte {start} ('{name}') has no op_type.");
        return new OnnxNode(name, op, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ProtobufReader r, string source)
    {
        int start = r.Offset;
        string name = "", s = "";
        int type = 0;
        float f = 0;
        long i = 0;
        var floats = new List<float>();
        var ints = new List<long>();
        OnnxTensor? t = null;
        while (r.TryReadKey(out int field, out var wt))
        {
            switch (field)
            {
                case OnnxProto.Attribute.Name: r.Expect(wt, WireType.LengthDelimited, "AttributeProto.name"); name = r.ReadString(); break;
                case OnnxProto.Attribute.F: r.Expect(wt, WireType.Fixed32, "AttributeProto.f"); f = r.ReadFloat(); break;
                case OnnxProto.Attribute.I: r.Expect(wt, WireType.Varint, "AttributeProto.i"); i = r.ReadInt64(); break;
                case OnnxProto.Attribute.S: r.Expect(wt, WireType.LengthDelimited, "AttributeProto.s"); s = r.ReadString(); break;
                case OnnxProto.Attribute.T: r.Expect(wt, WireType.LengthDelimited, "AttributeProto.t"); t = ReadTensor(r.ReadMessage(), source); break;
                case OnnxProto.Attribute.G or OnnxProto.Attribute.Graphs:
                    throw new InvalidDataException($"'{source}': attribute '{name}' at byte {start} holds a sub-graph; graphs with control flow are not supported.");
                case OnnxProto.Attribute.Floats: r.ReadRepeatedFloat(wt, floats); break;
                case OnnxProto.Attribute.Ints: r.ReadRepeatedInt64(wt, ints); break;
                case OnnxProto.Attribute.Type: r.Expect(wt, WireType.Varint, "AttributeProto.type"); type = r.ReadInt32(); break;
                default: r.Skip(wt); break;
            }
        }
        if (name.Length == 0) throw new InvalidDataException($"'{source}': the attribute at byte {start} has no name.");
        if (type == OnnxProto.AttributeType.Tensor && t is null)
            throw new InvalidDataException($"'{source}': tensor attribute '{name}' at byte {start} has no tensor.");
        return new OnnxAttribute(name, type, f, i, s, floats.ToArray(), ints.ToArray(), t);
    }

    private static OnnxValueInfo ReadValueInfo(ProtobufReader r)
    {
        string name = "";
        int elementType = 0;
        var shape = new List<long>();
        while (r.TryReadKey(out int field, out var wt))
        {
            if (field == OnnxProto.ValueInfo.Name && wt == WireType.LengthDelimited) name = r.ReadString();
            else if (field == OnnxProto.ValueInfo.Type && wt == WireType.LengthDelimited)
            {
                // TypeProto.tensor_type (1) → TypeProto.Tensor { elem_type (1), shape (2) → TensorShapeProto { dim (1) } }.
                var type = r.ReadMessage();
                while (type.TryReadKey(out int tf, out var twt))
                {
                    if (tf != OnnxProto.TypeProto.TensorType || twt != WireType.LengthDelimited) { type.Skip(twt); continue; }
                    var tensor = type.ReadMessage();
                    while (tensor.TryReadKey(out int ef, out var ewt))
                    {
                        if (ef == OnnxProto.TypeProto.ElementType && ewt == WireType.Varint) elementType = tensor.ReadInt32();
                        else if (ef == OnnxProto.TypeProto.Shape && ewt == WireType.LengthDelimited) ReadShape(tensor.ReadMessage(), shape);
                        else tensor.Skip(ewt);
                    }
                }
            }
            else r.Skip(wt);
        }
        return new OnnxValueInfo(name, elementType, shape.ToArray());
    }

    private static void ReadShape(ProtobufReader r, List<long> shape)
    {
        while (r.TryReadKey(out int field, out var wt))
        {
            if (field != OnnxProto.TypeProto.Dim || wt != WireType.LengthDelimited) { r.Skip(wt); continue; }
            var dim = r.ReadMessage();
            long value = -1;
            while (dim.TryReadKey(out int df, out var dwt))
            {
                if (df == OnnxProto.TypeProto.DimValue && dwt == WireType.Varint) value = dim.ReadInt64();
                else dim.Skip(dwt); // dim_param: a symbolic dimension stays −1
            }
            shape.Add(value);
        }
    }

    /// <summary>Reads a float32 <c>TensorProto</c> from <c>raw_data</c> (little-endian) or <c>float_data</c>.</summary>
    internal static OnnxTensor ReadTensor(ProtobufReader r, string source)
    {
        int start = r.Offset;
        string name = "";
        var dims = new List<long>();
        int dataType = 0;
        var floatData = new List<float>();
        ReadOnlyMemory<byte>? raw = null;
        bool external = false;
        while (r.TryReadKey(out int field, out var wt))
        {
            switch (field)
            {
                case OnnxProto.Tensor.Dims: r.ReadRepeatedInt64(wt, dims); break;
                case OnnxProto.Tensor.DataType: r.Expect(wt, WireType.Varint, "TensorProto.data_type"); dataType = r.ReadInt32(); break;
                case OnnxProto.Tensor.FloatData: r.ReadRepeatedFloat(wt, floatData); break;
                case OnnxProto.Tensor.Name: r.Expect(wt, WireType.LengthDelimited, "TensorProto.name"); name = r.ReadString(); break;
                case OnnxProto.Tensor.RawData: r.Expect(wt, WireType.LengthDelimited, "TensorProto.raw_data"); raw = r.ReadBytes(); break;
                case OnnxProto.Tensor.ExternalData: external = true; r.Skip(wt); break;
                case OnnxProto.Tensor.DataLocation: r.Expect(wt, WireType.Varint, "TensorProto.data_location"); external |= r.ReadInt32() == 1; break;
                default: r.Skip(wt); break;
            }
        }
        string what = $"'{source}': tensor '{name}' at byte {start}";
        if (external) throw new InvalidDataException($"{what} keeps its data in an external file, which is not supported.");
        if (dataType != OnnxProto.DataType.Float) throw new InvalidDataException($"{what} has data type {dataType}; only float32 (1) is supported.");
        long count = 1;
        foreach (long d in dims)
        {
            if (d < 0) throw new InvalidDataException($"{what} has a negative dimension {d}.");
            count = checked(count * d);
        }
        float[] data;
        if (raw is { } bytes)
        {
            if (bytes.Length != count * 4)
                throw new InvalidDataException($"{what} has {bytes.Length} bytes of raw_data; its shape [{string.Join(",", dims)}] needs {count * 4}.");
            data = new float[count];
            if (BitConverter.IsLittleEndian) bytes.Span.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
            else for (int k = 0; k < data.Length; k++) data[k] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Span[(4 * k)..]);
        }
        else
        {
            if (floatData.Count != count)
                throw new InvalidDataException($"{what} has {floatData.Count} float_data values; its shape [{string.Join(",", dims)}] needs {count}.");
            data = floatData.ToArray();
        }
        return new OnnxTensor(name, dims.ToArray(), data);
    }
}

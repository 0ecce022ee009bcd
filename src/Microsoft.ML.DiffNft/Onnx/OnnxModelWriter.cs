using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.ML.DiffNft.Imaging;

namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// Writes an <see cref="OnnxModel"/> as an ONNX model file (protobuf <c>ModelProto</c>), the inverse of
/// <see cref="OnnxModelReader"/> and with the same field numbers (<see cref="OnnxProto"/>). Initializers are float32
/// tensors stored as little-endian <c>raw_data</c>; a −1 in a graph input's or output's shape is written as a symbolic
/// dimension (<c>dim_param</c>: "N" for the first axis, the batch, and "d<i>i</i>" for others).
/// </summary>
internal static class OnnxModelWriter
{
    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically (a crash leaves no half-written file).</summary>
    public static void Write(OnnxModel model, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, ToBytes(model));
    }

    /// <summary>The model's protobuf encoding.</summary>
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var w = new ProtobufWriter();
        w.WriteInt64(OnnxProto.Model.IrVersion, model.IrVersion);
        if (model.ProducerName.Length > 0) w.WriteString(OnnxProto.Model.ProducerName, model.ProducerName);
        if (model.ProducerVersion.Length > 0) w.WriteString(OnnxProto.Model.ProducerVersion, model.ProducerVersion);
        w.WriteMessage(OnnxProto.Model.Graph, g => WriteGraph(g, model.Graph));
        foreach (var (domain, version) in model.Opsets)
        {
            w.WriteMessage(OnnxProto.Model.OpsetImport, o =>
            {
                if (domain.Length > 0) o.WriteString(OnnxProto.Opset.Domain, domain);
                o.WriteInt64(OnnxProto.Opset.Version, version);
            });
        }
        return w.WrittenSpan.ToArray();
    }

    private static void WriteGraph(ProtobufWriter w, OnnxGraph graph)
    {
        foreach (var node in graph.Nodes) w.WriteMessage(OnnxProto.Graph.Node, n => WriteNode(n, node));
        w.WriteString(OnnxProto.Graph.Name, graph.Name);
        foreach (var tensor in graph.Initializers.Values) w.WriteMessage(OnnxProto.Graph.Initializer, t => WriteTensor(t, tensor));
        foreach (var input in graph.Inputs) w.WriteMessage(OnnxProto.Graph.Input, v => WriteValueInfo(v, input));
        foreach (var output in graph.Outputs) w.WriteMessage(OnnxProto.Graph.Output, v => WriteValueInfo(v, output));
    }

    private static void WriteNode(ProtobufWriter w, OnnxNode node)
    {
        foreach (var input in node.Inputs) w.WriteString(OnnxProto.Node.Input, input);
        foreach (var output in node.Outputs) w.WriteString(OnnxProto.Node.Output, output);
        if (node.Name.Length > 0) w.WriteString(OnnxProto.Node.Name, node.Name);
        w.WriteString(OnnxProto.Node.OpType, node.OpType);
        foreach (var attribute in node.Attributes.Values) w.WriteMessage(OnnxProto.Node.Attribute, a => WriteAttribute(a, attribute));
        if (node.Domain.Length > 0) w.WriteString(OnnxProto.Node.Domain, node.Domain);
    }

    private static void WriteAttribute(ProtobufWriter w, OnnxAttribute a)
    {
        w.WriteString(OnnxProto.Attribute.Name, a.Name);
        switch (a.Type)
        {
            case OnnxProto.AttributeType.Float: w.WriteFloat(OnnxProto.Attribute.F, a.Float); break;
            case OnnxProto.AttributeType.Int: w.WriteInt64(OnnxProto.Attribute.I, a.Int); break;
            case OnnxProto.AttributeType.String: w.WriteString(OnnxProto.Attribute.S, a.String); break;
            case OnnxProto.AttributeType.Tensor:
                var tensor = a.Tensor ?? throw new ArgumentException($"Tensor attribute '{a.Name}' has no tensor.");
                w.WriteMessage(OnnxProto.Attribute.T, t => WriteTensor(t, tensor));
                break;
            case OnnxProto.AttributeType.Floats: w.WritePackedFloat(OnnxProto.Attribute.Floats, a.Floats); break;
            case OnnxProto.AttributeType.Ints: w.WritePackedInt64(OnnxProto.Attribute.Ints, a.Ints); break;
            default: throw new ArgumentException($"Attribute '{a.Name}' has type {a.Type}, which the writer does not support.");
        }
        w.WriteInt64(OnnxProto.Attribute.Type, a.Type);
    }

    private static void WriteTensor(ProtobufWriter w, OnnxTensor tensor)
    {
        if (tensor.ElementCount != tensor.Data.Length)
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Data.Length} values for shape [{string.Join(", ", tensor.Dims)}].");
        w.WritePackedInt64(OnnxProto.Tensor.Dims, tensor.Dims);
        w.WriteInt64(OnnxProto.Tensor.DataType, OnnxProto.DataType.Float);
        w.WriteString(OnnxProto.Tensor.Name, tensor.Name);
        w.WriteBytes(OnnxProto.Tensor.RawData, LittleEndianBytes(tensor.Data));
    }

    private static void WriteValueInfo(ProtobufWriter w, OnnxValueInfo info)
    {
        w.WriteString(OnnxProto.ValueInfo.Name, info.Name);
        w.WriteMessage(OnnxProto.ValueInfo.Type, type => type.WriteMessage(OnnxProto.TypeProto.TensorType, tensor =>
        {
            tensor.WriteInt64(OnnxProto.TypeProto.ElementType, info.ElementType);
            tensor.WriteMessage(OnnxProto.TypeProto.Shape, shape =>
            {
                for (int i = 0; i < info.Shape.Length; i++)
                {
                    long d = info.Shape[i];
                    shape.WriteMessage(OnnxProto.TypeProto.Dim, dim =>
                    {
                        if (d >= 0) dim.WriteInt64(OnnxProto.TypeProto.DimValue, d);
                        else dim.WriteString(OnnxProto.TypeProto.DimParam, i == 0 ? "N" : $"d{i}");
                    });
                }
            });
        }));
    }

    private static ReadOnlySpan<byte> LittleEndianBytes(float[] data)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(data.AsSpan());
        var bytes = new byte[checked(data.Length * 4)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), data[i]);
        return bytes;
    }
}

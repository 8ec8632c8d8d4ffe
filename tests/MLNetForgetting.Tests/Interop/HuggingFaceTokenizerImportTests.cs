using System.Text.Json.Nodes;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Interop;

/// <summary>
/// Hugging Face RoBERTa folders with Hugging Face's tokenizer files (vocab.json + merges.txt, or XLM-R's
/// sentencepiece.bpe.model): a tiny random model written here with the fixtures' tokenizers imports, fits in an
/// ML.NET pipeline, saves to a zip and predicts identically in a new process; bad folders get errors naming files and sizes.
/// </summary>
[TestClass]
public sealed class HuggingFaceTokenizerImportTests
{
    /// <summary>A tiny random RoBERTa (HF layout from our exporter) with the fixture's Hugging Face tokenizer files beside it.</summary>
    private static RobertaForMaskedLM WriteTinyFolder(string directory, string fixture, string modelType, int? vocabSize = null)
    {
        var tokenizer = HuggingFaceImport.ImportTokenizer(HuggingFaceTokenizerVectorTests.Fixture(fixture));
        var config = new RobertaConfig
        {
            VocabSize = vocabSize ?? tokenizer.VocabSize, PadTokenId = tokenizer.PadId, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2,
            IntermediateSize = 64, MaxSequenceLength = 64,
        };
        var model = new RobertaForMaskedLM(config);
        model.InitializeWeights(new Generator(3));
        HuggingFaceExport.Export(model, null, directory);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!;
        json["model_type"] = modelType;
        File.WriteAllText(Path.Combine(directory, "config.json"), json.ToJsonString());
        foreach (string file in Directory.GetFiles(HuggingFaceTokenizerVectorTests.Fixture(fixture)))
            if (Path.GetFileName(file) != "expected.json") File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        return model;
    }

    [TestMethod]
    [DataRow("roberta-bpe", "roberta", "byte-level-bpe")]
    [DataRow("xlmr-spm", "xlm-roberta", "fairseq-sentencepiece")]
    public void HuggingFaceTokenizerFilesImportAndRoundTripThroughOurExport(string fixture, string modelType, string kind)
    {
        using var dir = new TempDir();
        using var original = WriteTinyFolder(dir.Path, fixture, modelType);
        var (model, tokenizer) = HuggingFaceImport.Import(dir.Path);
        using (model)
        {
            Assert.AreEqual(kind, tokenizer!.Kind);
            Assert.AreEqual(original.Config.VocabSize, tokenizer.VocabSize);
            foreach (var (name, t) in original.NamedTensors()) Assert.IsTrue(TensorAssert.BitEqual(t, model.NamedTensors()[name]), name);

            // Our export writes our tokenizer files (sentencepiece.bpe.model kept under its name); importing them gives the same tokenizer.
            using var back = new TempDir();
            HuggingFaceExport.Export(model, tokenizer, back.Path);
            var (again, againTokenizer) = HuggingFaceImport.Import(back.Path);
            using (again)
            {
                Assert.AreEqual(tokenizer.Fingerprint, againTokenizer!.Fingerprint);
                Assert.AreEqual(tokenizer.Kind, againTokenizer.Kind);
                string text = "A café served crème brûlée 🙂 and 机器学习.";
                CollectionAssert.AreEqual(tokenizer.EncodeToIds(text), againTokenizer.EncodeToIds(text));
            }
        }
    }

    [TestMethod]
    [DataRow("roberta-bpe", "roberta")]
    [DataRow("xlmr-spm", "xlm-roberta")]
    public void TinyFolderFitsInAPipelineAndPredictsIdenticallyInANewProcess(string fixture, string modelType)
    {
        using var dir = new TempDir();
        using var _ = WriteTinyFolder(dir.Path, fixture, modelType);
        BertImportTests.FitSaveAndScoreInChild(dir.Path, maxLength: 64, steps: 4);
    }

    [TestMethod]
    [DataRow("merges.txt")]
    [DataRow("vocab.json")]
    public void HalfOfAByteLevelBpeTokenizerIsNamed(string removed)
    {
        using var dir = new TempDir();
        using var _ = WriteTinyFolder(dir.Path, "roberta-bpe", "roberta");
        File.Delete(dir.File(removed));
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, removed);
        Assert.AreEqual(dir.File(removed), ex.FileName);
    }

    [TestMethod]
    public void FolderWithoutTokenizerNamesEveryFileLookedFor()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyFolder(dir.Path, "roberta-bpe", "roberta");
        foreach (var f in new[] { "vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json" }) File.Delete(dir.File(f));
        File.WriteAllText(dir.File("tokenizer.json"), "{}");
        var ex = Assert.ThrowsExactly<FileNotFoundException>(() => LanguageModelTransformer.FromHuggingFace(new Microsoft.ML.MLContext(1), dir.Path));
        foreach (var name in new[] { "tokenizer_config.json", "vocab.json", "merges.txt", "sentencepiece.bpe.model", "vocab.txt", "tokenizer.json" })
            StringAssert.Contains(ex.Message, name);
        var tokenizerOnly = Assert.ThrowsExactly<FileNotFoundException>(() => HuggingFaceImport.ImportTokenizer(dir.Path));
        StringAssert.Contains(tokenizerOnly.Message, "sentencepiece.bpe.model");
    }

    [TestMethod]
    [DataRow("roberta-bpe", "roberta")]
    [DataRow("xlmr-spm", "xlm-roberta")]
    public void TokenizerSizeDisagreeingWithTheEmbeddingsNamesBothSizes(string fixture, string modelType)
    {
        using var dir = new TempDir();
        int tokens = HuggingFaceImport.ImportTokenizer(HuggingFaceTokenizerVectorTests.Fixture(fixture)).VocabSize;
        using var _ = WriteTinyFolder(dir.Path, fixture, modelType, vocabSize: tokens + 7);
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, $"vocab_size {tokens + 7}");
        StringAssert.Contains(ex.Message, $"{tokens} tokens");
    }

    [TestMethod]
    public void SpecialTokenMissingFromTheVocabularyIsNamed()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyFolder(dir.Path, "roberta-bpe", "roberta");
        File.WriteAllText(dir.File("special_tokens_map.json"), """{"mask_token": {"content": "<MASK>", "lstrip": true}}""");
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "'<MASK>'");
        StringAssert.Contains(ex.Message, "mask_token");
        StringAssert.Contains(ex.Message, "vocab.json");
    }

    [TestMethod]
    public void CamembertSentencePieceLayoutIsRefusedByName()
    {
        using var dir = new TempDir();
        using var _ = WriteTinyFolder(dir.Path, "xlmr-spm", "camembert");
        var ex = Assert.ThrowsExactly<InvalidDataException>(() => HuggingFaceImport.Import(dir.Path));
        StringAssert.Contains(ex.Message, "CamemBERT");
        StringAssert.Contains(ex.Message, "sentencepiece.bpe.model");
    }
}

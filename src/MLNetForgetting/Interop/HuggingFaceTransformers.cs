using Microsoft.ML;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.Runtime;
using MLNetForgetting.Text;
using TorchSharp;

namespace MLNetForgetting.MLNet.Pretraining
{
    public sealed partial class LanguageModelTransformer
    {
        /// <summary>
        /// A language model from a Hugging Face RoBERTa or BERT directory (ours from <see cref="HuggingFaceExport"/>, one
        /// produced elsewhere, or one <see cref="OnnxConversion"/> wrote), usable as the body for EmbeddingRelearner, SentencePairClassification (task
        /// adaptation) and the LiST trainer. A classifier in the checkpoint is kept on the model.
        /// </summary>
        /// <param name="mlContext">The ML.NET context.</param>
        /// <param name="directory">config.json + model.safetensors or pytorch_model.bin + the tokenizer: our files, vocab.json + merges.txt (RoBERTa), sentencepiece.bpe.model (XLM-R) or vocab.txt (BERT).</param>
        /// <param name="tokenizer">The vocabulary; required when the directory has no tokenizer files (see <see cref="HuggingFaceImport.ImportTokenizer"/>).</param>
        /// <param name="inputColumnName">Text column the sentence embeddings are computed from.</param>
        /// <param name="outputColumnName">The sentence-embedding column.</param>
        /// <param name="maxSequenceLength">Longest encoded sequence; default the model's maximum.</param>
        /// <param name="batchSize">Inference batch size.</param>
        /// <param name="device">Where the model runs.</param>
        /// <param name="options">Import options.</param>
        /// <exception cref="InvalidDataException">The checkpoint does not match its config (the message lists missing, unexpected and mis-shaped parameters), or the tokenizer does not fit the vocabulary.</exception>
        public static LanguageModelTransformer FromHuggingFace(MLContext mlContext, string directory, SubwordTokenizer? tokenizer = null,
            string inputColumnName = "Text", string outputColumnName = "Features", int? maxSequenceLength = null, int batchSize = 32,
            DeviceOption device = DeviceOption.Cpu, HuggingFaceImportOptions? options = null)
        {
            ArgumentNullException.ThrowIfNull(mlContext);
            ArgumentException.ThrowIfNullOrWhiteSpace(inputColumnName);
            ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
            if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be >= 1.");
            var (model, imported) = HuggingFaceImport.Import(directory, options);
            try
            {
                var vocabulary = tokenizer ?? imported ?? throw new FileNotFoundException($"'{directory}' has no tokenizer: looked for {HuggingFaceImport.TokenizerFilesLookedFor}. Pass the tokenizer.",
                    Path.Combine(directory, "tokenizer_config.json"));
                if (vocabulary.VocabSize != model.Config.VocabSize)
                    throw new InvalidDataException($"The tokenizer has {vocabulary.VocabSize} tokens; the model's vocab_size is {model.Config.VocabSize}.");
                if (vocabulary.PadId != model.Config.PadTokenId)
                    throw new InvalidDataException($"The tokenizer's pad id is {vocabulary.PadId}; the model's pad_token_id is {model.Config.PadTokenId}.");
                int maxLength = maxSequenceLength ?? model.Config.MaxSequenceLength;
                if (maxLength < 3 || maxLength > model.Config.MaxSequenceLength)
                    throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), maxLength, $"Must be in [3, {model.Config.MaxSequenceLength}].");
                model.to(TorchDevices.Resolve(device));
                return new LanguageModelTransformer(mlContext, model, vocabulary, null,
                    new Settings(inputColumnName, outputColumnName, maxLength, batchSize, 0, 0, device));
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }

        /// <summary>Exports the model and tokenizer as a Hugging Face RoBERTa directory (see <see cref="HuggingFaceExport"/>).</summary>
        public void ExportHuggingFace(string directory, ExportFormat format = ExportFormat.Safetensors) =>
            HuggingFaceExport.Export(Model, Tokenizer, directory, format);
    }
}

namespace MLNetForgetting.Interop
{
    /// <summary>Hugging Face export of the ML.NET transformers that carry a RoBERTa model.</summary>
    public static class HuggingFaceTransformerExport
    {
        /// <summary>A task-adapted or assembled classifier: body, E, MLM head and classifier, with its label names as id2label.</summary>
        public static void ExportHuggingFace(this SentencePairClassifierTransformer transformer, string directory, ExportFormat format = ExportFormat.Safetensors)
        {
            ArgumentNullException.ThrowIfNull(transformer);
            HuggingFaceExport.Export(transformer.Model, transformer.Tokenizer, directory, format, transformer.LabelNames);
        }

        /// <summary>
        /// A LiST model's backbone with its task's adapters installed (keys <c>...adapter.down.weight</c>,
        /// <c>...adapter.up.weight</c>). The prompt head and verbalizer are not RoBERTa parameters; they travel
        /// in the adapter pack (<see cref="PromptAdapterTransformer.ExportAdapterPack"/>).
        /// </summary>
        public static void ExportHuggingFace(this PromptAdapterTransformer transformer, string directory, ExportFormat format = ExportFormat.Safetensors)
        {
            ArgumentNullException.ThrowIfNull(transformer);
            var adapters = transformer.Classifier.Adapters;
            adapters?.Install(transformer.Backbone);
            HuggingFaceExport.Export(transformer.Backbone, transformer.Tokenizer, directory, format, adapterOptions: adapters?.Options);
        }
    }
}

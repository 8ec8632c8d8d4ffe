using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Interop;
using MLNetForgetting.MLNet.Pretraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf import</c>: a Hugging Face RoBERTa folder as a language model zip.</summary>
public static class ImportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var input = CliOptions.Input("--input", "A Hugging Face RoBERTa folder: config.json, model.safetensors or pytorch_model.bin, and our tokenizer files", aliases: "-i");
        var output = CliOptions.Output("--output", "The language model zip to write (usable by relearn, finetune and list)", aliases: "-o");
        var preferBin = new Option<bool>("--prefer-bin") { Description = "Read pytorch_model.bin even when model.safetensors exists" };
        var seq = CliOptions.OptionalNumber<int>("--seq", "Longest sequence in tokens (default: the model's maximum)").AtLeast(3);

        var command = new Command("import", "Import a Hugging Face RoBERTa folder (ours from mlnf export, or one produced elsewhere with our tokenizer files) as a language model zip.")
        {
            input, output, preferBin, seq,
        };
        command.WithExamples(
            "mlnf import --input hf/en-forget --output en-forget.zip",
            "mlnf import --input hf/model --output lm.zip --prefer-bin --seq 256");

        return host.SetAction(command, (parse, context) =>
        {
            var ml = context.CreateMLContext(seed: 0);
            string folder = PathChecks.InputFolder(parse.GetValue(input), "--input");
            if (!File.Exists(Path.Combine(folder, HuggingFaceExport.ConfigFile)))
                throw new CliUsageException($"--input '{parse.GetValue(input)}' has no {HuggingFaceExport.ConfigFile}; expected a Hugging Face RoBERTa folder");
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            var lm = LanguageModelTransformer.FromHuggingFace(ml, folder, maxSequenceLength: parse.GetValue(seq),
                options: new HuggingFaceImportOptions { PreferPyTorch = parse.GetValue(preferBin) });
            var schema = ml.Data.LoadFromEnumerable(Array.Empty<TextRow>()).Schema;
            PretrainRun.SaveModel(ml, lm, schema, outputPath);
            var c = lm.Model.Config;
            context.WriteLine($"Model: {outputPath} ({c.NumHiddenLayers} layers, hidden {c.HiddenSize}, vocabulary {lm.Tokenizer.VocabSize}, classifier {(lm.Model.Classifier is null ? "none" : "kept")})");
            return ExitCodes.Success;
        });
    }
}

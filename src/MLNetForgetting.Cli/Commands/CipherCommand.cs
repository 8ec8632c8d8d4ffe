using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Evaluation;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf cipher</c>: writes "cipher English" (<see cref="CipherEnglish"/>), the real-text positive control for relearning.</summary>
public static class CipherCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var input = CliOptions.Input("--input", "English text: a .txt file (every line ciphered), or a .tsv file with a header (see --columns)", aliases: "-i");
        var output = CliOptions.Output("--output", "The ciphered file to write", aliases: "-o");
        var columns = new Option<string?>("--columns")
        {
            Description = "TSV columns to cipher, comma-separated (default: every column but 'label'); the header is kept as it is", HelpName = "a,b",
        };
        var maxRows = CliOptions.Number("--max-rows", "Cipher only the first N rows (0: all)", 0L).AtLeast(0);

        var command = new Command("cipher", "Cipher English text into Cherokee letters (a fixed, self-inverse swap of a-z, A-Z and 0-9): a new language with English's words and statistics, the positive control of relearning (apply it again to decipher).")
        {
            input, output, columns, maxRows,
        };
        command.WithExamples(
            "mlnf cipher --input ../shared/data/raw/en/wikipedia_extract_01.txt --output cipher-en.txt",
            "mlnf cipher --input ../shared/data/xnli/dev/dev.en.tsv --output dev.cipher.tsv      # premise and hypothesis; labels stay");

        return host.SetAction(command, (parse, context) =>
        {
            string source = parse.GetValue(input)!;
            if (!File.Exists(source)) throw new CliUsageException($"--input '{source}' is not a file");
            string target = PathChecks.OutputFile(parse.GetValue(output), "--output");
            long limit = parse.GetValue(maxRows);
            bool tsv = source.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) || parse.GetValue(columns) is not null;
            long rows = 0;
            string tmp = target + ".tmp";
            using (var reader = new StreamReader(source))
            using (var writer = new StreamWriter(tmp) { NewLine = "\n" })
            {
                bool[]? cipherColumn = null;
                if (tsv)
                {
                    string header = reader.ReadLine() ?? throw new CliUsageException($"--input '{source}' is empty");
                    var names = header.Split('\t');
                    var wanted = parse.GetValue(columns)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    foreach (var w in wanted ?? [])
                        if (!names.Contains(w)) throw new CliUsageException($"--columns: '{w}' is not a column of '{source}' (it has {string.Join(", ", names)})");
                    cipherColumn = names.Select(n => wanted?.Contains(n) ?? !n.Equals("label", StringComparison.OrdinalIgnoreCase)).ToArray();
                    writer.WriteLine(header);
                }
                while (reader.ReadLine() is { } line && (limit == 0 || rows < limit))
                {
                    if (cipherColumn is null) writer.WriteLine(CipherEnglish.Apply(line));
                    else writer.WriteLine(string.Join('\t', line.Split('\t').Select((f, i) => i < cipherColumn.Length && cipherColumn[i] ? CipherEnglish.Apply(f) : f)));
                    rows++;
                }
            }
            File.Move(tmp, target, overwrite: true);
            context.WriteLine($"Ciphered {rows:N0} rows of {source} into {target}");
            return ExitCodes.Success;
        });
    }
}

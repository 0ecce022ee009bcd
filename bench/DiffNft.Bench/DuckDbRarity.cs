using System.Globalization;
using System.Text;
using DuckDB.NET.Data;

namespace DiffNft.Bench;

/// <summary>
/// The same OpenRarity computation in SQL on DuckDB's in-memory engine: normalise, count every value of every trait type
/// (NULL = the token lacks it), add the trait count, sum −log2 p per token, divide by the collection entropy, count unique
/// traits, and rank with OpenRarity's competition ranks (ties within relative 1e-9 of the previous row). The SQL is
/// written for speed the way the ML.NET side is: text is normalised once per distinct spelling, joins are on small
/// lookup tables.
/// </summary>
internal sealed class DuckDbRarity : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly ZipfTraitData _data;

    public DuckDbRarity(ZipfTraitData data)
    {
        _data = data;
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Creates the <c>tokens</c> table and fills it through DuckDB's appender.</summary>
    public void Load()
    {
        using (var create = _connection.CreateCommand())
        {
            create.CommandText = "CREATE OR REPLACE TABLE tokens (token_id INTEGER, " +
                string.Join(", ", _data.TraitNames.Select(n => $"{Quote(n)} VARCHAR")) + ")";
            create.ExecuteNonQuery();
        }
        using var appender = _connection.CreateAppender("tokens");
        int k = _data.TraitNames.Length;
        for (int i = 0; i < _data.Tokens; i++)
        {
            var row = appender.CreateRow().AppendValue(i + 1);
            for (int t = 0; t < k; t++)
            {
                int v = _data.Values[t][i];
                row = v < 0 ? row.AppendNullValue() : row.AppendValue(_data.Vocabulary[t][v]);
            }
            row.EndRow();
        }
    }

    /// <summary>Runs the query and reads every row into arrays indexed by token id − 1.</summary>
    public (double[] Score, int[] Rank, bool[] IsRare) Score(double rareQuantile)
    {
        var score = new double[_data.Tokens];
        var rank = new int[_data.Tokens];
        var rare = new bool[_data.Tokens];
        using var command = _connection.CreateCommand();
        command.CommandText = Sql(_data.TraitNames, rareQuantile);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            int id = reader.GetInt32(0) - 1;
            score[id] = reader.GetDouble(1);
            rank[id] = checked((int)reader.GetInt64(2));
            rare[id] = reader.GetBoolean(3);
        }
        return (score, rank, rare);
    }

    /// <summary>Runs the query under EXPLAIN ANALYZE and returns DuckDB's profile (for tuning the SQL).</summary>
    public string Explain(double rareQuantile)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "EXPLAIN ANALYZE " + Sql(_data.TraitNames, rareQuantile);
        using var reader = command.ExecuteReader();
        var sb = new StringBuilder();
        while (reader.Read())
            for (int i = 0; i < reader.FieldCount; i++)
                sb.AppendLine(reader.GetValue(i)?.ToString());
        return sb.ToString();
    }

    /// <summary>DuckDB's own memory use now, in bytes (its buffer manager's count).</summary>
    public long MemoryBytes()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT FROM duckdb_memory()";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    internal static string Sql(IReadOnlyList<string> traits, double rareQuantile)
    {
        int k = traits.Count;
        var range = Enumerable.Range(0, k).ToList();
        var sb = new StringBuilder("WITH\n");
        // Normalise each distinct raw spelling once (lower(trim()) costs ~0.5 µs a call in DuckDB), as the ML.NET side
        // does: raw spelling → count, then → normalised value (NULL, a missing trait, becomes 'NULL' in capitals, which
        // lower() never produces), then counts per normalised value, then a lookup table raw → (count, counts towards
        // the trait count, unique).
        foreach (int t in range)
        {
            sb.AppendLine($"raw{t} AS (SELECT {Quote(traits[t])} AS raw, count(*) AS c FROM tokens GROUP BY ALL),");
            sb.AppendLine($"map{t} AS (SELECT raw, c, coalesce(lower(trim(raw)), 'NULL') AS v FROM raw{t}),");
            sb.AppendLine($"f{t} AS (SELECT v, sum(c)::DOUBLE AS c FROM map{t} GROUP BY v),");
            sb.AppendLine($"look{t} AS (SELECT m.raw, f.c, (m.v NOT IN ('NULL', '', 'none'))::INTEGER AS present, " +
                          $"(f.c = 1 AND m.v <> 'NULL')::INTEGER AS uniq FROM map{t} m JOIN f{t} f USING (v)),");
        }
        // Tokens lacking a trait: their count is the 'NULL' group's (a NULL key matches nothing in a join).
        sb.AppendLine("nulls AS (SELECT " + string.Join(", ", range.Select(t =>
            $"(SELECT coalesce(max(c), 0) FROM f{t} WHERE v = 'NULL') AS n{t}")) + "),");
        sb.AppendLine("n AS (SELECT count(*)::DOUBLE AS n FROM tokens),");
        sb.AppendLine("per AS MATERIALIZED (SELECT token_id, " +
            string.Join(", ", range.Select(t => $"coalesce(l{t}.c, nulls.n{t}) AS c{t}")) + ", " +
            string.Join(" + ", range.Select(t => $"coalesce(l{t}.present, 0)")) + " AS tc, " +
            string.Join(" + ", range.Select(t => $"coalesce(l{t}.uniq, 0)")) + " AS u FROM tokens " +
            string.Join(" ", range.Select(t => $"LEFT JOIN look{t} l{t} ON tokens.{Quote(traits[t])} = l{t}.raw")) +
            " CROSS JOIN nulls),");
        // OpenRarity's meta_trait:trait_count and the collection entropy over every value of every trait type.
        sb.AppendLine("ftc AS (SELECT tc, count(*)::DOUBLE AS c FROM per GROUP BY tc),");
        sb.AppendLine("h AS (SELECT sum(-(c / n) * log2(c / n)) AS h FROM (" +
            string.Join(" UNION ALL ", range.Select(t => $"SELECT c FROM f{t}").Append("SELECT c FROM ftc")) + "), n),");
        sb.AppendLine("scored AS (SELECT token_id, (" +
            string.Join(" + ", range.Select(t => $"-log2(c{t} / n.n)").Append("-log2(ftc.c / n.n)")) +
            ") / (CASE WHEN h.h = 0 THEN 1 ELSE h.h END) AS score, u + (ftc.c = 1)::INTEGER AS uniq " +
            "FROM per JOIN ftc USING (tc) CROSS JOIN n CROSS JOIN h),");
        // Competition ranks by (unique traits, score) descending; a row shares the previous row's rank when their scores
        // are equal within relative 1e-9, and a chain of such rows shares the rank of its first.
        sb.AppendLine("ordered AS (SELECT token_id, score, row_number() OVER w AS pos, lag(score) OVER w AS prev FROM scored " +
            "WINDOW w AS (ORDER BY uniq DESC, score DESC)),");
        sb.AppendLine("starts AS (SELECT token_id, score, pos, CASE WHEN prev IS NOT NULL AND abs(score - prev) <= 1e-9 * greatest(abs(score), abs(prev)) " +
            "THEN NULL ELSE pos END AS start FROM ordered),");
        // The rare threshold: the ⌈q·N⌉-th highest score.
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"threshold AS (SELECT score AS t FROM scored ORDER BY score DESC LIMIT 1 OFFSET (SELECT greatest(ceil({rareQuantile:R} * n * (1 - 1e-12)), 1)::BIGINT - 1 FROM n))"));
        sb.AppendLine("SELECT token_id, score, max(start) OVER (ORDER BY pos ROWS UNBOUNDED PRECEDING) AS rank, " +
            "(score >= t OR abs(score - t) <= 1e-9 * greatest(abs(score), abs(t))) AS is_rare FROM starts CROSS JOIN threshold");
        return sb.ToString();
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}

# Oracle for tests/test_design.py: the intracluster correlation as VCQI computes it (Stata calcicc,
# vcqiR R/calc_icc.R; vcqi.md section 3): the one-way ANOVA estimator, unweighted, by cluster, on
# the children of the domain with a non-missing outcome, not truncated at 0:
#   rho = (MSB - MSW) / (MSB + (n0 - 1) MSW),  n0 = (N - sum(n_i^2) / N) / (k - 1),
# and rho = -1 / (n0 - 1) when every child has the same outcome (both mean squares are 0).
# MSB and MSW are taken from R's own one-way ANOVA table, summary(aov(y ~ factor(cluster))), so
# nothing of the lqas sums of squares is reused here.
# Usage: Rscript icc_anova.R input.csv output.csv outcome[,outcome...] domain[,domain...]
# Output: outcome, one column per domain variable ("all" for a margin), n, k, n0, msb, msw, icc.
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, colClasses = c(psu = "character"))
outcomes <- strsplit(args[3], ",")[[1]]
domains <- strsplit(args[4], ",")[[1]]
for (v in domains) d[[v]] <- as.character(d[[v]])

anova_icc <- function(y, cluster) {
  cluster <- factor(cluster)
  ni <- as.vector(table(cluster))
  N <- sum(ni)
  k <- length(ni)
  if (k < 2) return(c(n = N, k = k, n0 = NA, msb = NA, msw = NA, icc = NA))
  ms <- summary(aov(y ~ cluster))[[1]][["Mean Sq"]]
  msb <- ms[1]
  msw <- ms[2]
  n0 <- (N - sum(ni^2) / N) / (k - 1)
  rho <- if (all(y == y[1])) -1 / (n0 - 1) else (msb - msw) / (msb + (n0 - 1) * msw)
  c(n = N, k = k, n0 = n0, msb = msb, msw = msw, icc = rho)
}

rows <- list()
# every margin: each subset of the domain variables, the others set to "all"
subsets <- unlist(lapply(0:length(domains), function(m) combn(domains, m, simplify = FALSE)),
                  recursive = FALSE)
for (y in outcomes) {
  answered <- d[!is.na(d[[y]]), ]
  for (keys in subsets) {
    groups <- if (length(keys) == 0) list(all = answered) else split(answered, answered[keys], drop = TRUE)
    for (g in groups) {
      label <- setNames(as.list(rep("all", length(domains))), domains)
      for (v in keys) label[[v]] <- g[[v]][1]
      rows[[length(rows) + 1]] <- data.frame(outcome = y, label, as.list(anova_icc(g[[y]], g$psu)),
                                             check.names = FALSE)
    }
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)

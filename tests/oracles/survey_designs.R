# Oracle for tests/test_design.py: 0/1 outcomes (NA = not in the denominator) in every domain and
# margin of the by-columns, under several designs and lonely-PSU options, with R survey.
# Usage: Rscript survey_designs.R input.csv output.csv LONELY DESIGN OUTCOMES BY
#   LONELY   adjust | certainty | remove          (options(survey.lonely.psu = LONELY))
#   DESIGN   stratified | fpc | unstratified | nopsu
#   OUTCOMES comma-separated 0/1 columns; BY comma-separated domain columns ("all" marks a margin)
# Per outcome x domain it writes: the svyby route (estimate, se), the subset route (se_subset),
# svyciprop(method = "beta") and svyciprop(method = "logit") with df = degf(full design), n, degf.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = args[3])
d <- read.csv(args[1], stringsAsFactors = FALSE, colClasses = "character")
outcomes <- strsplit(args[5], ",")[[1]]
by <- strsplit(args[6], ",")[[1]]
for (y in c(outcomes, "w", "fpc")) d[[y]] <- as.numeric(ifelse(d[[y]] == "NA", NA, d[[y]]))
des <- switch(args[4],
  stratified = svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d),
  fpc = svydesign(ids = ~psu, strata = ~stratum, weights = ~w, fpc = ~fpc, data = d),
  unstratified = svydesign(ids = ~psu, weights = ~w, data = d),
  nopsu = svydesign(ids = ~1, strata = ~stratum, weights = ~w, data = d))
full_df <- degf(des)
keeps <- unlist(lapply(length(by):0, function(k) combn(by, k, simplify = FALSE)), recursive = FALSE)
num <- function(x) sprintf("%.17g", x)
ci_or_na <- function(expr) tryCatch(suppressWarnings(attr(expr, "ci")), error = function(e) c(NA, NA))
rows <- list()
for (y in outcomes) {
  f <- as.formula(paste0("~", y))
  for (keep in keeps) {
    if (length(keep) > 0) {
      b <- svyby(f, as.formula(paste0("~", paste(keep, collapse = "+"))), des, svymean, na.rm = TRUE)
      route <- data.frame(b[keep], estimate = b[[y]], se = SE(b), stringsAsFactors = FALSE)
    } else {
      m <- svymean(f, des, na.rm = TRUE)
      route <- data.frame(estimate = coef(m)[[1]], se = SE(m)[[1]])
    }
    for (i in seq_len(nrow(route))) {
      inside <- !is.na(d[[y]])
      for (k in keep) inside <- inside & d[[k]] == route[[k]][i]
      sub <- des[inside, ]
      m <- svymean(f, sub)
      beta <- ci_or_na(svyciprop(f, sub, method = "beta", df = full_df))
      logit <- ci_or_na(svyciprop(f, sub, method = "logit", df = full_df))
      row <- data.frame(indicator = y, n = sum(inside), estimate = num(route$estimate[i]),
                        se = num(route$se[i]), se_subset = num(SE(m)[[1]]),
                        beta_low = num(beta[1]), beta_high = num(beta[2]),
                        logit_low = num(logit[1]), logit_high = num(logit[2]), degf = full_df,
                        stringsAsFactors = FALSE)
      for (k in by) row[[k]] <- if (k %in% keep) route[[k]][i] else "all"
      rows[[length(rows) + 1]] <- row
    }
  }
}
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)

# Oracle for tests/test_design.py: domain means of 0/1 outcomes (NA = not in denominator) with R survey.
# Usage: Rscript survey_proportions.R input.csv output.csv lonely_psu_option
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(survey))
options(survey.lonely.psu = args[3])
d <- read.csv(args[1], stringsAsFactors = FALSE)
d$dom <- as.character(d$dom)
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~w, data = d)
rows <- list()
for (y in c("y1", "y2")) {
  f <- as.formula(paste0("~", y))
  m <- svymean(f, des, na.rm = TRUE)
  rows[[length(rows) + 1]] <- data.frame(outcome = y, dom = "all", estimate = coef(m)[[1]], se = SE(m)[[1]])
  b <- svyby(f, ~dom, des, svymean, na.rm = TRUE)
  rows[[length(rows) + 1]] <- data.frame(outcome = y, dom = as.character(b$dom), estimate = b[[y]], se = SE(b))
}
# svyciprop(method = "beta") is Clopper-Pearson on a Korn-Graubard effective size with df = degf(subset)
sub <- subset(des, dom == "a" & !is.na(y1))
ci <- svyciprop(~y1, sub, method = "beta", level = 0.95)
rows[[length(rows) + 1]] <- data.frame(outcome = "ci_beta_y1_a", dom = "a",
                                       estimate = attr(ci, "ci")[[1]], se = attr(ci, "ci")[[2]])
rows[[length(rows) + 1]] <- data.frame(outcome = "degf_y1_a", dom = "a", estimate = degf(sub), se = nrow(sub))
write.csv(do.call(rbind, rows), args[2], row.names = FALSE)

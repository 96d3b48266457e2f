# Oracle for tests/test_small_area.py: the Fay-Herriot EBLUPs and their MSEs by R sae (eblupFH, mseFH).
# Usage: Rscript small_area_fh.R input.csv areas.csv fit.csv METHOD "y ~ x1 + x2" variance_column
# areas.csv: eblup, mse per input row; fit.csv: name, value (refvar, iterations, convergence, beta_<i>,
# se_<i> in the model matrix's column order).
args <- commandArgs(trailingOnly = TRUE)
suppressMessages(library(sae))
d <- read.csv(args[1])
formula <- as.formula(args[5])
d$vardir_oracle <- d[[args[6]]]
result <- mseFH(formula, vardir_oracle, method = args[4], data = d)
fit <- result$est$fit
stopifnot(fit$convergence)
write.csv(data.frame(eblup = result$est$eblup[, 1], mse = result$mse), args[2], row.names = FALSE)
coef <- fit$estcoef
p <- nrow(coef)
write.csv(data.frame(name = c("refvar", "iterations", paste0("beta_", seq_len(p)), paste0("se_", seq_len(p))),
                     value = c(fit$refvar, fit$iterations, coef$beta, coef$std.error)),
          args[3], row.names = FALSE)
